import { randomBytes } from 'node:crypto';
import { Client } from 'ssh2';
import {
  checkAndResetScript,
  DESTINATION,
  judgeCheck,
  shQuote,
  verifyScript,
  type Artifact,
  type BenchHost,
} from './rollout-change.js';

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export const connect = (host: BenchHost, privateKey: string): Promise<Client> =>
  new Promise((resolve, reject) => {
    const client = new Client();
    client.once('error', reject);
    client.once('ready', () => resolve(client));
    client.connect({
      host: host.address,
      port: host.port,
      username: host.username,
      privateKey,
      readyTimeout: 60_000,
      hostVerifier: () => true,
    });
    // As the executor does: the floor is the best plain ssh2 can do, not ssh2's default (Nagle on).
    client.setNoDelay(true);
  });

export const exec = (client: Client, command: string): Promise<ExecResult> =>
  new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) return reject(err);
      let stdout = '';
      let stderr = '';
      stream.on('data', (d: Buffer) => (stdout += d.toString()));
      stream.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      stream.once('exit', (code: number | null) => stream.once('close', () => resolve({ code, stdout, stderr })));
    });
  });

const put = (client: Client, local: string, remote: string): Promise<void> =>
  new Promise((resolve, reject) => {
    client.sftp((err, sftp) => {
      if (err) return reject(err);
      sftp.fastPut(local, remote, { mode: 0o644, concurrency: 16, chunkSize: 32_768 }, (e) => {
        sftp.end();
        if (e) reject(e);
        else resolve();
      });
    });
  });

const sudo = (script: string) => `sudo -n sh -c ${shQuote(script)}`;

const ok = async (client: Client, command: string): Promise<ExecResult> => {
  const r = await exec(client, command);
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr.trim().split('\n').at(-1) ?? ''}`);
  return r;
};

export interface FloorResult {
  wallMs: number;
  /** Wall time of each step, barrier to barrier (the first includes the handshakes). */
  stepMs: number[];
  failures: string[];
}

/**
 * The floor: one ssh2 connection per host, all opened at once, each step over every host before
 * the next. The same work as the plan: hash the file; upload over SFTP, back up and install with
 * sudo; check the hash. A host that fails a step is left out of the later ones.
 */
export const floorRollout = async (
  hosts: readonly BenchHost[],
  privateKey: string,
  artifact: Artifact,
): Promise<FloorResult> => {
  const failures: string[] = [];
  const failed = new Set<string>();
  const clients = new Map<string, Client>();
  const stepMs: number[] = [];
  const started = performance.now();
  let mark = started;
  const step = async (work: (host: BenchHost) => Promise<unknown>) => {
    await Promise.all(
      hosts
        .filter((h) => !failed.has(h.name))
        .map(async (host) => {
          try {
            await work(host);
          } catch (err) {
            failed.add(host.name);
            failures.push(`${host.name}: ${(err as Error).message}`);
          }
        }),
    );
    const now = performance.now();
    stepMs.push(now - mark);
    mark = now;
  };
  const client = (host: BenchHost) => clients.get(host.name) as Client;
  try {
    await step(async (host) => {
      clients.set(host.name, await connect(host, privateKey));
      await ok(client(host), `sha256sum ${shQuote(DESTINATION)}`);
    });
    await step(async (host) => {
      const staged = `/tmp/bench-${randomBytes(8).toString('hex')}`;
      await put(client(host), artifact.file, staged);
      const part = shQuote(`${DESTINATION}.part`);
      const install = sudo(`set -e
mkdir -p /var/backups/bench && cp -p ${shQuote(DESTINATION)} /var/backups/bench/app.bin
cp ${shQuote(staged)} ${part} && mv -f ${part} ${shQuote(DESTINATION)}`);
      // The staged file is the user's, in a sticky /tmp: removed as the user, not through sudo.
      await ok(client(host), `${install} && rm -f ${shQuote(staged)}`);
    });
    await step((host) => ok(client(host), verifyScript(artifact.sha256)));
  } finally {
    for (const c of clients.values()) c.end();
  }
  return { wallMs: performance.now() - started, stepMs, failures };
};

/** Checks every host got the artifact and kept a backup of the old file, then resets it; untimed. */
export const checkAndReset = async (
  hosts: readonly BenchHost[],
  privateKey: string,
  sha256: string | null,
): Promise<string[]> => {
  const problems: string[] = [];
  await Promise.all(
    hosts.map(async (host) => {
      let c: Client | undefined;
      try {
        c = await connect(host, privateKey);
        const r = await ok(c, sudo(checkAndResetScript()));
        const why = sha256 === null ? null : judgeCheck(r.stdout, sha256);
        if (why) problems.push(`${host.name}: ${why}`);
      } catch (err) {
        problems.push(`${host.name}: check/reset failed: ${(err as Error).message}`);
      } finally {
        c?.end();
      }
    }),
  );
  return problems;
};
