import { Client, type ConnectConfig } from 'ssh2';
import { ErrorType, type CredentialSecret } from '@opsc/contracts';
import type { SshEndpoint } from './endpoints.js';
import { classifyConnectError } from './failure.js';
import { RemoteFailure } from '../remote-failure.js';
import { describeHostKey, hostKeyAlgorithmsFor, type HostKey, type HostKeyStore } from './host-keys.js';

export interface ConnectDeps {
  hostKeys: HostKeyStore;
  /** Opens the endpoint's credential from the vault, for this connection attempt only. */
  openSecret: (credentialId: string) => Promise<CredentialSecret>;
  readyTimeoutMs: number;
  keepaliveIntervalMs: number;
}

export const where = (e: Pick<SshEndpoint, 'targetName' | 'host' | 'port'>): string =>
  `${e.targetName} (${e.host}:${e.port})`;

type Verdict = { ok: true } | { ok: false; failure: RemoteFailure };

/** Decides on the key the server presented, pinning it on first contact when the policy allows. */
const judgeHostKey = async (
  endpoint: SshEndpoint,
  deps: ConnectDeps,
  pinned: HostKey | null,
  presented: HostKey,
): Promise<Verdict> => {
  const mismatch = (expected: HostKey): Verdict => ({
    ok: false,
    failure: new RemoteFailure(
      ErrorType.HostKeyMismatch,
      `the host key of ${where(endpoint)} changed: pinned ${expected.algorithm} ${expected.fingerprint}, presented ${presented.algorithm} ${presented.fingerprint}`,
    ),
  });
  if (pinned) return pinned.publicKey === presented.publicKey ? { ok: true } : mismatch(pinned);
  if (endpoint.hostKeyPolicy === 'strict') {
    return {
      ok: false,
      failure: new RemoteFailure(
        ErrorType.HostKeyMismatch,
        `no host key is pinned for ${where(endpoint)} and its policy is strict: enrol it first (presented ${presented.algorithm} ${presented.fingerprint})`,
      ),
    };
  }
  const now = await deps.hostKeys.pin(endpoint.targetId, presented, 'first-contact');
  return now.publicKey === presented.publicKey ? { ok: true } : mismatch(now);
};

const authConfig = (
  secret: CredentialSecret,
  endpoint: SshEndpoint,
): Pick<ConnectConfig, 'password' | 'privateKey' | 'passphrase' | 'tryKeyboard'> => {
  switch (secret.kind) {
    case 'password':
      return { password: secret.password, tryKeyboard: true };
    case 'ssh-key':
      return {
        privateKey: secret.privateKey,
        ...(secret.passphrase !== undefined && { passphrase: secret.passphrase }),
      };
    default:
      throw new RemoteFailure(
        ErrorType.ValidationFailed,
        `the credential of ${endpoint.targetName} is a ${secret.kind} credential; SSH needs a password or an ssh-key`,
      );
  }
};

/** Connects and authenticates. The secret lives only for the handshake; the host key is always verified. */
export const openConnection = async (endpoint: SshEndpoint, deps: ConnectDeps): Promise<Client> => {
  const pinned = await deps.hostKeys.get(endpoint.targetId);
  const secret = await deps.openSecret(endpoint.credentialId);
  const auth = authConfig(secret, endpoint);
  const client = new Client();
  let verdict: Verdict | undefined;
  return new Promise<Client>((resolve, reject) => {
    const fail = (err: unknown) => {
      client.removeAllListeners('ready');
      client.end();
      reject(
        verdict && !verdict.ok
          ? verdict.failure
          : classifyConnectError(err, where(endpoint), endpoint.username, deps.readyTimeoutMs),
      );
    };
    client.once('ready', () => {
      client.removeListener('error', fail);
      client.removeListener('close', onEarlyClose);
      resolve(client);
    });
    client.once('error', fail);
    const onEarlyClose = () =>
      fail(
        new RemoteFailure(ErrorType.ConnectionLost, `${where(endpoint)} closed the connection during the handshake`),
      );
    client.once('close', onEarlyClose);
    if (secret.kind === 'password') {
      // Servers that only offer keyboard-interactive get the password for each prompt.
      client.on('keyboard-interactive', (_name, _instructions, _lang, prompts, finish) =>
        finish(prompts.map(() => secret.password)),
      );
    }
    try {
      client.connect({
        host: endpoint.host,
        port: endpoint.port,
        username: endpoint.username,
        ...auth,
        readyTimeout: deps.readyTimeoutMs,
        keepaliveInterval: deps.keepaliveIntervalMs,
        keepaliveCountMax: 3,
        ...(pinned && { algorithms: { serverHostKey: hostKeyAlgorithmsFor(pinned.algorithm) as never } }),
        hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
          judgeHostKey(endpoint, deps, pinned, describeHostKey(key)).then(
            (v) => {
              verdict = v;
              verify(v.ok);
            },
            (err: unknown) => {
              verdict = {
                ok: false,
                failure: new RemoteFailure(
                  ErrorType.Unavailable,
                  `the host key of ${where(endpoint)} could not be checked: ${(err as Error).message}`,
                ),
              };
              verify(false);
            },
          );
        },
      });
      // Each command is a few small packets each way. With Nagle's algorithm on (ssh2 leaves it on)
      // a packet waits for the ACK of the one before, which Linux delays up to 40 ms: every command
      // would take 40 ms more (bench:wrappers).
      client.setNoDelay(true);
    } catch (err) {
      fail(err);
    }
  });
};

/** Connects only far enough to see the server's host key, like ssh-keyscan: no credential is used. */
export const scanHostKey = (
  endpoint: Pick<SshEndpoint, 'targetName' | 'host' | 'port'>,
  readyTimeoutMs: number,
): Promise<HostKey> =>
  new Promise((resolve, reject) => {
    const client = new Client();
    let seen: HostKey | undefined;
    const done = (err?: unknown) => {
      client.end();
      if (seen) resolve(seen);
      else
        reject(classifyConnectError(err ?? new Error('no host key presented'), where(endpoint), '-', readyTimeoutMs));
    };
    client.once('error', done);
    client.once('close', () => done());
    client.connect({
      host: endpoint.host,
      port: endpoint.port,
      username: 'opsc-keyscan',
      readyTimeout: readyTimeoutMs,
      hostVerifier: (key: Buffer) => {
        seen = describeHostKey(key);
        return false;
      },
    });
    client.setNoDelay(true);
  });
