import { performance } from 'node:perf_hooks';
import { Client } from 'ssh2';
import { withRunMarker, wrapScript } from '@opsc/activities/execution';
import { startSshFleet } from '@opsc/testkit';
import { sampleCpu } from './proc-cpu.js';

/**
 * What the executor's wrappers cost a target: one real sshd host, one connection, N commands one
 * after another in each shape, and the CPU the host (sshd, the shells and the commands they start)
 * used per command and the wall time of each, against the bare command run the same way:
 *
 * - `bare`: the command as a plain ssh2 exec would send it (the floor), with TCP_NODELAY as the
 *   executor sets it; `bare+nagle` the same with ssh2's default (Nagle's algorithm on), to show why;
 * - `wrapped`: a read-only `run` as the executor sends it (the pid line, `timeout`);
 * - `marked`: a change (a five-line script) under the run marker that makes it run once.
 *
 *   npm run bench:wrappers -- [--commands 300] [--rounds 2]
 */
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const COMMANDS = Number(arg('commands', '300'));
const ROUNDS = Number(arg('rounds', '2'));
const say = (line: string) => process.stdout.write(`${line}\n`);

const SCRIPT = 'for i in 1 2 3 4 5; do echo "line $i"; done';
const NONCE = '5eed';
let seq = 0;
const SHAPES: Record<string, () => string> = {
  'bare+nagle': () => SCRIPT,
  bare: () => SCRIPT,
  wrapped: () =>
    wrapScript(
      { shell: 'sh', script: 'exec uname -r', reportsFacts: false },
      {
        timeoutSeconds: 60,
        nonce: NONCE,
        become: 'none',
      },
    ),
  marked: () =>
    wrapScript(
      withRunMarker(
        { shell: 'sh', script: SCRIPT, reportsFacts: false },
        // A new target each time: each command is a first run, as a step's are.
        { jobId: 'bench-job', stepId: 'bench-step', targetId: `target-${(seq += 1)}`, attempt: 1 },
        { nonce: NONCE, become: false, timeoutSeconds: 60 },
      ),
      { timeoutSeconds: 60, nonce: NONCE, become: 'none' },
    ),
};

const exec = (client: Client, command: string): Promise<number> =>
  new Promise((resolve, reject) =>
    client.exec(command, (err, channel) => {
      if (err) return reject(err);
      channel.on('data', () => undefined).stderr.on('data', () => undefined);
      channel.on('exit', (code: number | null) => resolve(code ?? -1));
    }),
  );

/** CPU seconds of this process' descendants: the host's sshd and everything it started. */
const hostCpu = (): number =>
  [...sampleCpu({ bench: process.pid }).entries()].reduce((sum, [label, s]) => (label === 'bench' ? sum : sum + s), 0);

const fleet = await startSshFleet({ size: 1 });
const host = fleet.hosts[0]!;
const client = new Client();
try {
  await new Promise<void>((resolve, reject) =>
    client
      .once('ready', resolve)
      .once('error', reject)
      .connect({ host: host.address, port: host.port, username: host.username, password: host.password }),
  );
  say(`${COMMANDS} commands in each shape, one after another on one connection to one sshd host; ${ROUNDS} rounds`);
  const figures = new Map<string, { cpuMs: number[]; wallMs: number[] }>();
  for (let round = 1; round <= ROUNDS; round += 1)
    for (const [name, shape] of Object.entries(SHAPES)) {
      client.setNoDelay(name !== 'bare+nagle');
      const cpu0 = hostCpu();
      const t0 = performance.now();
      for (let i = 0; i < COMMANDS; i += 1) {
        const code = await exec(client, shape());
        if (code !== 0) throw new Error(`${name}: a command exited ${code}`);
      }
      const wall = (performance.now() - t0) / COMMANDS;
      // The host reaps its last session's processes a moment after the exit status is sent.
      await new Promise((r) => setTimeout(r, 300));
      const cpu = ((hostCpu() - cpu0) * 1000) / COMMANDS;
      const f = figures.get(name) ?? { cpuMs: [], wallMs: [] };
      f.cpuMs.push(cpu);
      f.wallMs.push(wall);
      figures.set(name, f);
      say(`  round ${round} ${name}: ${cpu.toFixed(2)} ms of host CPU, ${wall.toFixed(1)} ms wall per command`);
    }
  const best = (xs: number[]) => Math.min(...xs);
  const bare = figures.get('bare')!;
  say('\nsummary (the best round of each; ratio against bare)');
  for (const [name, f] of figures)
    say(
      `  ${name.padEnd(10)} ${best(f.cpuMs).toFixed(2)} ms host CPU (x${(best(f.cpuMs) / best(bare.cpuMs)).toFixed(2)}), ${best(f.wallMs).toFixed(1)} ms wall (x${(best(f.wallMs) / best(bare.wallMs)).toFixed(2)})`,
    );
} finally {
  client.end();
  await fleet.stop();
}
