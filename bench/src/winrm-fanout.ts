import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  artifactStdin,
  maxSendBytes,
  powershellInvocation,
  runRemoteCommand,
  stagedPathFor,
  stageScriptFor,
  windowsScriptFor,
  WinrmConnection,
  WinrmPool,
  type WinrmAuth,
  type WinrmEndpoint,
} from '@opsc/activities/execution';

/**
 * WinRM fan-out and copy, against simulated Windows hosts behind real WS-Management endpoints
 * (run in a child process, so the client under test does not share its CPU time with them):
 *
 * - `hostname` on N hosts at once through the executor's WinRM layer (NTLM, sealed messages),
 *   a cold round (handshakes) then warm rounds (kept connections), against pywinrm 0.5.0 doing
 *   the same with one thread and Session per host: the ratio is ours / pywinrm;
 * - one file copied in chunks with SHA-256 verification, over NTLM-sealed HTTP and over HTTPS.
 *
 *   npm run bench:winrm -- [--size 25] [--rounds 5] [--copy-mb 50]
 */
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const size = Number(arg('size', '25'));
const rounds = Number(arg('rounds', '5'));
const copyMb = Number(arg('copy-mb', '50'));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAX_ENVELOPE = 153_600;

interface FleetHost {
  name: string;
  address: string;
  httpPort: number;
  httpsPort: number;
  username: string;
  password: string;
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? 0;
const p95 = (v: number[]) => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.ceil(v.length * 0.95) - 1)] ?? 0;

const startFleet = async (): Promise<{ child: ChildProcess; hosts: FleetHost[]; caFile: string }> => {
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'testkit/dist/winrm-fleet-cli.js'), '--size', String(size), '--first-octet', '150'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const hosts: FleetHost[] = [];
  for await (const line of createInterface({ input: child.stdout! })) {
    const parsed = JSON.parse(line) as FleetHost & { caFile?: string };
    if (parsed.caFile) return { child, hosts, caFile: parsed.caFile };
    hosts.push(parsed);
  }
  throw new Error('the WinRM fleet ended before it was up');
};

const endpointOf = (h: FleetHost, scheme: 'http' | 'https', ca?: string): WinrmEndpoint => ({
  targetId: h.name,
  targetName: h.name,
  host: h.address,
  port: scheme === 'https' ? h.httpsPort : h.httpPort,
  scheme,
  transport: 'ntlm',
  verifyCertificate: true,
  ...(ca && { caCertificate: ca }),
  username: h.username,
  credentialId: h.name,
  credentialFingerprint: h.name,
});
const authOf = (h: FleetHost): WinrmAuth => ({ kind: 'ntlm', user: h.username, domain: '', password: h.password });

const oursRound = async (pool: WinrmPool, hosts: FleetHost[]) => {
  const started = performance.now();
  const perHost = await Promise.all(
    hosts.map(async (h) => {
      const t = performance.now();
      const out = await pool.with(
        `${h.name}|http`,
        () => new WinrmConnection(endpointOf(h, 'http'), authOf(h), { connectTimeoutMs: 10_000 }),
        (c) =>
          runRemoteCommand(
            c,
            { command: 'hostname', args: [], timeoutMs: 60_000, captureCapBytes: 4096 },
            { maxEnvelopeSize: MAX_ENVELOPE, operationTimeoutSeconds: 20 },
          ),
      );
      if (out.exitCode !== 0) throw new Error(`${h.name}: exit ${out.exitCode}`);
      return performance.now() - t;
    }),
  );
  return { wallMs: performance.now() - started, perHostMs: perHost };
};

const pywinrmRounds = (hosts: FleetHost[]): Promise<{ wallMs: number; perHostMs: number[] }[]> =>
  new Promise((resolve, reject) => {
    const child = spawn(path.join(ROOT, '.venv/bin/python'), [path.join(ROOT, 'bench/python/pywinrm_fanout.py')], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(
            out
              .trim()
              .split('\n')
              .map((l) => JSON.parse(l) as { wallMs: number; perHostMs: number[] }),
          )
        : reject(new Error(`pywinrm exited ${code}`)),
    );
    child.stdin.end(
      JSON.stringify({
        rounds,
        hosts: hosts.map((h) => ({
          url: `http://${h.address}:${h.httpPort}/wsman`,
          user: h.username,
          password: h.password,
        })),
      }),
    );
  });

async function* prepend(first: Buffer, rest: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield first;
  yield* rest;
}

const copy = async (h: FleetHost, scheme: 'http' | 'https', file: string, sha256: string, ca: string) => {
  const connection = new WinrmConnection(endpointOf(h, scheme, ca), authOf(h), { connectTimeoutMs: 10_000 });
  try {
    // As the executor copies: the upload to a staging file on the host, then the copy from it into place.
    const nonce = randomBytes(8).toString('hex');
    const stage = powershellInvocation(stageScriptFor({ nonce }, { sha256, bytes: statSync(file).size }).script);
    const { script } = windowsScriptFor(
      { op: 'file-copy', source: 'x', destination: `C:\\Bench\\${scheme}.bin`, backup: false },
      { jobId: 'bench', stepId: scheme, nonce },
      { sha256, staged: stagedPathFor(nonce) },
    );
    const run = powershellInvocation(script);
    const settings = { maxEnvelopeSize: MAX_ENVELOPE, operationTimeoutSeconds: 20 };
    const started = performance.now();
    const data = artifactStdin(file, maxSendBytes(MAX_ENVELOPE));
    const staged = await runRemoteCommand(
      connection,
      {
        command: stage.command,
        args: stage.args,
        stdin: stage.stdin ? prepend(stage.stdin, data) : data,
        timeoutMs: 600_000,
        captureCapBytes: 65_536,
      },
      settings,
    );
    if (staged.exitCode !== 0)
      throw new Error(`upload over ${scheme}: exit ${staged.exitCode}: ${staged.stderr.text()}`);
    const out = await runRemoteCommand(
      connection,
      {
        command: run.command,
        args: run.args,
        ...(run.stdin && { stdin: [run.stdin] }),
        timeoutMs: 600_000,
        captureCapBytes: 65_536,
      },
      settings,
    );
    if (out.exitCode !== 0) throw new Error(`copy over ${scheme}: exit ${out.exitCode}: ${out.stderr.text()}`);
    return performance.now() - started;
  } finally {
    connection.close();
  }
};

const main = async () => {
  const { child, hosts, caFile } = await startFleet();
  const work = mkdtempSync(path.join(os.tmpdir(), 'opsc-bench-winrm-'));
  const pool = new WinrmPool({ maxConcurrentPerHost: 8, idleMs: 600_000 });
  try {
    process.stdout.write(
      `${hosts.length} simulated Windows hosts; ${os.availableParallelism()} cores; ${rounds} rounds\n\n`,
    );
    const ours = [];
    for (let i = 0; i < rounds; i++) ours.push(await oursRound(pool, hosts));
    const theirs = await pywinrmRounds(hosts);
    const line = (label: string, r: { wallMs: number; perHostMs: number[] }[]) =>
      `${label.padEnd(34)} ${r[0]!.wallMs.toFixed(0).padStart(9)} ${median(r.slice(1).map((x) => x.wallMs))
        .toFixed(0)
        .padStart(9)} ${median(r.slice(1).flatMap((x) => x.perHostMs))
        .toFixed(0)
        .padStart(8)} ${p95(r.slice(1).flatMap((x) => x.perHostMs))
        .toFixed(0)
        .padStart(8)}\n`;
    process.stdout.write(
      `${'hostname on every host at once'.padEnd(34)} ${'cold ms'.padStart(9)} ${'warm ms'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)}\n`,
    );
    process.stdout.write(line('executor WinRM layer (NTLM, sealed)', ours));
    process.stdout.write(line('pywinrm 0.5.0, thread per host', theirs));
    const ratio = (a: number, b: number) => (a / b).toFixed(2);
    process.stdout.write(
      `ratio ours/pywinrm: cold ${ratio(ours[0]!.wallMs, theirs[0]!.wallMs)}, warm ${ratio(median(ours.slice(1).map((x) => x.wallMs)), median(theirs.slice(1).map((x) => x.wallMs)))} (below 1 is faster)\n\n`,
    );

    const file = path.join(work, 'payload.bin');
    const payload = randomBytes(copyMb * 1024 * 1024);
    writeFileSync(file, payload);
    const sha256 = createHash('sha256').update(payload).digest('hex');
    const ca = readFileSync(caFile, 'utf8');
    for (const scheme of ['http', 'https'] as const) {
      const ms = await copy(hosts[0]!, scheme, file, sha256, ca);
      process.stdout.write(
        `file-copy ${copyMb} MB over ${scheme === 'http' ? 'HTTP, NTLM-sealed' : 'HTTPS (TLS)     '}: ${(ms / 1000).toFixed(1)} s, ${(copyMb / (ms / 1000)).toFixed(1)} MB/s, SHA-256 verified on the target\n`,
      );
    }
  } finally {
    pool.close();
    child.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
};

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
