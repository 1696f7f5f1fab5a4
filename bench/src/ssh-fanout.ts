import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startSshFleet } from '@opsc/testkit';
import type { FanoutInput, RoundResult } from './fanout-round.js';

/**
 * SSH fan-out: `uptime` on N real sshd hosts through (a) the executor's SSH layer and (b) a plain
 * ssh2 loop with one connection per host, all opened at once (the floor). Each measurement runs in
 * its own process so its peak RSS is its own.
 *
 *   npm run bench:ssh -- [--sizes 10,50,200] [--repeat 3] [--max-handshakes 32]
 */
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const sizes = arg('sizes', '10,50,200').split(',').map(Number);
const repeat = Number(arg('repeat', '3'));
const maxHandshakes = arg('max-handshakes', '32');
const WORKER = fileURLToPath(new URL('./fanout-worker.js', import.meta.url));

interface Measured {
  cold: RoundResult;
  warm?: RoundResult;
  maxRssKb: number;
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
};
const median = (values: number[]): number => percentile(values, 50);

const measure = async (variant: 'layer' | 'plain', inputFile: string): Promise<Measured> => {
  const { stdout } = await promisify(execFile)(process.execPath, [WORKER, variant, inputFile, maxHandshakes], {
    maxBuffer: 16 * 1024 * 1024,
    timeout: 300_000,
  });
  return JSON.parse(stdout) as Measured;
};

const row = (label: string, rounds: RoundResult[], rssKb: number[]) => {
  const wall = median(rounds.map((r) => r.wallMs));
  const perHost = rounds.flatMap((r) => r.perHostMs);
  const failures = rounds.reduce((n, r) => n + r.failures.length, 0);
  return {
    label,
    wall,
    p50: percentile(perHost, 50),
    p95: percentile(perHost, 95),
    rssMb: median(rssKb) / 1024,
    failures,
  };
};

const main = async () => {
  const largest = Math.max(...sizes);
  const work = mkdtempSync(path.join(os.tmpdir(), 'opsc-bench-ssh-'));
  process.stdout.write(`starting ${largest} sshd hosts...\n`);
  const t0 = performance.now();
  const fleet = await startSshFleet({ size: largest, logDir: work });
  process.stdout.write(
    `fleet up in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${os.availableParallelism()} cores; repeat ${repeat}, median wall reported\n\n`,
  );
  try {
    const header = `${'N'.padStart(4)}  ${'variant'.padEnd(22)} ${'wall ms'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'peak RSS MB'.padStart(12)} ${'failed'.padStart(7)}`;
    process.stdout.write(`${header}\n${'-'.repeat(header.length)}\n`);
    const summary: string[] = [];
    for (const n of sizes) {
      const input: FanoutInput = {
        hosts: fleet.hosts
          .slice(0, n)
          .map((h) => ({ name: h.name, address: h.address, port: h.port, username: h.username })),
        privateKey: fleet.clientKey.privateKey,
        command: 'uptime',
      };
      const inputFile = path.join(work, `input-${n}.json`);
      writeFileSync(inputFile, JSON.stringify(input), { mode: 0o600 });
      const layer: Measured[] = [];
      const plain: Measured[] = [];
      // Interleaved, so drift on the machine hits both variants alike.
      for (let i = 0; i < repeat; i += 1) {
        layer.push(await measure('layer', inputFile));
        plain.push(await measure('plain', inputFile));
      }
      const rows = [
        row(
          'a) executor layer, cold',
          layer.map((m) => m.cold),
          layer.map((m) => m.maxRssKb),
        ),
        row(
          'a) executor layer, warm',
          layer.map((m) => m.warm!),
          layer.map((m) => m.maxRssKb),
        ),
        row(
          'b) plain ssh2 (floor)',
          plain.map((m) => m.cold),
          plain.map((m) => m.maxRssKb),
        ),
      ];
      for (const r of rows) {
        process.stdout.write(
          `${String(n).padStart(4)}  ${r.label.padEnd(22)} ${r.wall.toFixed(0).padStart(9)} ${r.p50.toFixed(0).padStart(8)} ${r.p95.toFixed(0).padStart(8)} ${r.rssMb.toFixed(1).padStart(12)} ${String(r.failures).padStart(7)}\n`,
        );
      }
      const [cold, warm, floor] = rows as [ReturnType<typeof row>, ReturnType<typeof row>, ReturnType<typeof row>];
      summary.push(
        `N=${n}: wall a/b cold ${(cold.wall / floor.wall).toFixed(2)}, warm ${(warm.wall / floor.wall).toFixed(2)}; p95 a/b cold ${(cold.p95 / floor.p95).toFixed(2)}; RSS a/b ${(cold.rssMb / floor.rssMb).toFixed(2)}`,
      );
    }
    process.stdout.write(
      `\nratios (a / b; below 1 is faster or smaller than the floor):\n${summary.map((s) => `  ${s}`).join('\n')}\n`,
    );
  } finally {
    await fleet.stop();
    rmSync(work, { recursive: true, force: true });
  }
};

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
