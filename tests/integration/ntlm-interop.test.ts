import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { NtlmClient, NtlmServer, ntowfv2 } from '@opsc/activities/execution';
import { REPO_ROOT } from '@opsc/dev';

// Our NTLM (the WinRM client's, and the test endpoint's) against pyspnego, an independent
// implementation: each side of the handshake, then sealed messages both ways. A mistake shared by
// our client and our server cannot pass here.
const PYTHON = path.join(REPO_ROOT, '.venv', 'bin', 'python');
const PEER = path.join(REPO_ROOT, 'tests', 'python', 'ntlm_peer.py');

interface Peer {
  call(request: Record<string, unknown>): Promise<Record<string, string | boolean | null>>;
  child: ChildProcessWithoutNullStreams;
}
const peers: Peer[] = [];

const startPeer = (args: string[], env: Record<string, string> = {}): Peer => {
  const child = spawn(PYTHON, [PEER, ...args], { env: { ...process.env, ...env } });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const peer: Peer = {
    child,
    async call(request) {
      child.stdin.write(`${JSON.stringify(request)}\n`);
      const next = await lines.next();
      if (next.done) throw new Error(`the pyspnego peer ended: ${stderr}`);
      const answer = JSON.parse(next.value) as Record<string, string | boolean | null>;
      if (answer.error) throw new Error(String(answer.error));
      return answer;
    },
  };
  peers.push(peer);
  return peer;
};

afterEach(() => {
  for (const peer of peers.splice(0)) peer.child.kill();
});

const b64 = (b: Buffer) => b.toString('base64');
const unb64 = (s: unknown) => Buffer.from(String(s), 'base64');

describe('NTLM against pyspnego', () => {
  it('computes NTOWFv2 as MS-NLMP 4.2.4.1.1 gives it', () => {
    expect(ntowfv2('Password', 'User', 'Domain').toString('hex')).toBe('0c868a403bfd7a93a3001ef22ef02e3f');
  });

  it('authenticates our client to a pyspnego server and exchanges sealed messages both ways', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'opsc-ntlm-'));
    writeFileSync(path.join(dir, 'users'), 'WINHOST:operator:S3cret-pass\n');
    const server = startPeer(['acceptor'], { NTLM_USER_FILE: path.join(dir, 'users') });
    const client = new NtlmClient({ user: 'operator', domain: 'WINHOST', password: 'S3cret-pass' });
    const challenge = await server.call({ op: 'step', token: b64(client.negotiate()) });
    const { message, session } = client.authenticate(unb64(challenge.token));
    expect((await server.call({ op: 'step', token: b64(message) })).complete).toBe(true);

    for (const text of ['<s:Envelope>first</s:Envelope>', 'second, longer message — with UTF-8 ✓']) {
      const sealed = session.seal(Buffer.from(text));
      const opened = await server.call({ op: 'unwrap', header: b64(sealed.signature), data: b64(sealed.sealed) });
      expect(unb64(opened.data).toString()).toBe(text);
      const reply = await server.call({ op: 'wrap', data: b64(Buffer.from(`re: ${text}`)) });
      expect(session.unseal(unb64(reply.data), unb64(reply.header)).toString()).toBe(`re: ${text}`);
    }
  });

  it('lets a pyspnego client authenticate to our server, and refuses a wrong password', async () => {
    const passwords = (user: string) => (user.toLowerCase() === 'operator' ? 'S3cret-pass' : undefined);
    for (const [password, ok] of [
      ['S3cret-pass', true],
      ['wrong', false],
    ] as const) {
      const client = startPeer(['initiator', 'operator', password]);
      const server = new NtlmServer(passwords);
      const negotiate = await client.call({ op: 'step', token: null });
      const authenticate = await client.call({ op: 'step', token: b64(server.challenge(unb64(negotiate.token))) });
      if (!ok) {
        expect(() => server.accept(unb64(authenticate.token))).toThrow(/authentication failed/);
        continue;
      }
      const { user, session } = server.accept(unb64(authenticate.token));
      expect(user).toBe('operator');
      const wrapped = await client.call({ op: 'wrap', data: b64(Buffer.from('request body')) });
      expect(session.unseal(unb64(wrapped.data), unb64(wrapped.header)).toString()).toBe('request body');
      const sealed = session.seal(Buffer.from('response body'));
      expect(
        unb64(
          (await client.call({ op: 'unwrap', header: b64(sealed.signature), data: b64(sealed.sealed) })).data,
        ).toString(),
      ).toBe('response body');
      // A tampered message does not verify.
      const forged = session.seal(Buffer.from('x'));
      forged.sealed.writeUInt8(forged.sealed.readUInt8(0) ^ 0xff, 0);
      await expect(
        client.call({ op: 'unwrap', header: b64(forged.signature), data: b64(forged.sealed) }),
      ).rejects.toThrow();
    }
  });
});
