import { Client } from 'ssh2';
import type { CredentialSecret } from '@opsc/contracts';
import {
  execOnChannel,
  openConnection,
  SshPool,
  wrapScript,
  type HostKey,
  type HostKeyStore,
  type SshEndpoint,
} from '@opsc/activities/execution';

/** What a worker process is told: the hosts and the key, written by the parent. */
export interface FanoutInput {
  hosts: { name: string; address: string; port: number; username: string }[];
  privateKey: string;
  command: string;
}

export interface RoundResult {
  wallMs: number;
  perHostMs: number[];
  failures: string[];
}

const timed = async (
  hosts: FanoutInput['hosts'],
  one: (host: FanoutInput['hosts'][number]) => Promise<string>,
): Promise<RoundResult> => {
  const started = performance.now();
  const failures: string[] = [];
  const perHostMs = await Promise.all(
    hosts.map(async (host) => {
      const t0 = performance.now();
      try {
        const out = await one(host);
        if (!out.includes('load average'))
          failures.push(`${host.name}: unexpected output ${JSON.stringify(out.slice(0, 80))}`);
      } catch (err) {
        failures.push(`${host.name}: ${(err as Error).message}`);
      }
      return performance.now() - t0;
    }),
  );
  return { wallMs: performance.now() - started, perHostMs, failures };
};

/** The floor: one fresh ssh2 connection per host, all opened at once, no pooling, no caps, no wrapper. */
export const plainRound = (input: FanoutInput): Promise<RoundResult> =>
  timed(
    input.hosts,
    (host) =>
      new Promise<string>((resolve, reject) => {
        const client = new Client();
        client.once('error', reject);
        client.once('ready', () => {
          client.exec(input.command, (err, stream) => {
            if (err) return reject(err);
            let out = '';
            stream.on('data', (d: Buffer) => (out += d.toString()));
            stream.stderr.resume();
            stream.once('close', () => {
              client.end();
              resolve(out);
            });
          });
        });
        client.connect({
          host: host.address,
          port: host.port,
          username: host.username,
          privateKey: input.privateKey,
          readyTimeout: 60_000,
          hostVerifier: () => true,
        });
        // As the executor does: the floor is the best plain ssh2 can do, not ssh2's default (Nagle on).
        client.setNoDelay(true);
      }),
  );

/** An in-memory pin store: the benchmark measures the SSH layer, not PostgreSQL. */
const memoryHostKeys = (): HostKeyStore => {
  const pins = new Map<string, HostKey>();
  return {
    get: async (id) => pins.get(id) ?? null,
    pin: async (id, key) => {
      if (!pins.has(id)) pins.set(id, key);
      return pins.get(id) ?? key;
    },
  };
};

/** The executor's SSH layer: pooled connections, handshake cap, host key pinning, the timeout wrapper. */
export const createLayer = (input: FanoutInput, options: { maxHandshakes: number }) => {
  const pool = new SshPool({ maxChannelsPerConnection: 9, maxHandshakes: options.maxHandshakes, idleMs: 600_000 });
  const secret: CredentialSecret = { kind: 'ssh-key', privateKey: input.privateKey };
  const deps = {
    hostKeys: memoryHostKeys(),
    openSecret: async () => secret,
    readyTimeoutMs: 60_000,
    keepaliveIntervalMs: 10_000,
  };
  const endpoints = new Map<string, SshEndpoint>(
    input.hosts.map((h) => [
      h.name,
      {
        targetId: h.name,
        targetName: h.name,
        host: h.address,
        port: h.port,
        username: h.username,
        credentialId: 'bench',
        credentialFingerprint: 'bench',
        hostKeyPolicy: 'accept-new',
      },
    ]),
  );
  const round = () =>
    timed(input.hosts, async (host) => {
      const endpoint = endpoints.get(host.name)!;
      const outcome = await pool.withChannel(
        host.name,
        () => openConnection(endpoint, deps),
        (client) =>
          execOnChannel(client, {
            command: wrapScript(
              { shell: 'sh', script: input.command, reportsFacts: false },
              { timeoutSeconds: 60, nonce: 'b0b0', become: 'none' },
            ),
            nonce: 'b0b0',
            captureCapBytes: 65_536,
            deadlineMs: 70_000,
            kill: async () => undefined,
          }),
      );
      if (outcome.exitCode !== 0)
        throw new Error(
          `exit ${outcome.exitCode} signal ${outcome.signal} lost ${outcome.connectionLost} pgid ${outcome.pgid} out ${JSON.stringify(outcome.stdout.text())}: ${outcome.stderr.text()}`,
        );
      return outcome.stdout.text();
    });
  return { round, close: () => pool.close() };
};
