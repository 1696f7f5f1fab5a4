import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, type ConnectConfig } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshFleet, type FleetHost, type SshFleet } from './ssh-fleet.js';

// Real sshd processes in namespaces, real users and sudo: this needs root on Linux.
const canRun = process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/usr/sbin/sshd');

interface Session {
  client: Client;
  /** The host key the server presented, as `ssh-keygen -lf` prints it. */
  fingerprint: string;
  closed: Promise<void>;
}

const open = (host: FleetHost, auth: Partial<ConnectConfig>): Promise<Session> =>
  new Promise((resolve, reject) => {
    const client = new Client();
    let fingerprint = '';
    const closed = new Promise<void>((done) => client.once('close', () => done()));
    client.once('ready', () => resolve({ client, fingerprint, closed }));
    client.once('error', reject);
    client.connect({
      host: host.address,
      port: host.port,
      username: host.username,
      readyTimeout: 10_000,
      hostVerifier: (key: Buffer) => {
        fingerprint = `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
        return true;
      },
      ...auth,
    });
  });

const run = (client: Client, command: string, input?: string): Promise<{ code: number | null; stdout: string }> =>
  new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) return reject(err);
      let stdout = '';
      stream.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      stream.stderr.resume();
      stream.once('close', (code: number | null) => resolve({ code, stdout }));
      stream.end(input);
    });
  });

const portOpen = (address: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host: address, port });
    socket.once('connect', () => resolve(true));
    socket.once('error', () => resolve(false));
    socket.once('connect', () => socket.destroy());
  });

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.skipIf(!canRun)('an SSH fleet of real sshd hosts', () => {
  let fleet: SshFleet;
  const conf = (index: number) => `# nginx.conf of host ${index}\nworker_processes ${index + 1};\n`;

  beforeAll(async () => {
    fleet = await startSshFleet({
      size: 3,
      host: (index) => ({
        sudo: index === 1 ? 'password' : 'nopasswd',
        packageManager: index === 2 ? 'dnf' : 'apt',
        files: { '/etc/nginx/nginx.conf': conf(index) },
      }),
    });
  }, 180_000); // another process' fleet is waited for (fleet-system.ts)

  afterAll(async () => {
    await fleet?.stop();
  });

  it('gives every host its own user, address and private files', async () => {
    expect(fleet.hosts.map((h) => [h.name, h.address])).toEqual([
      ['fleet-01', '127.0.0.2'],
      ['fleet-02', '127.0.0.3'],
      ['fleet-03', '127.0.0.4'],
    ]);
    for (const host of fleet.hosts) {
      const result = await fleet.exec(host.index, 'id -un; cat /etc/nginx/nginx.conf');
      expect(result).toMatchObject({ code: 0, stdout: `${host.username}\n${conf(host.index)}` });
    }
  });

  it('runs services as real processes that only sudo may stop', async () => {
    for (const host of fleet.hosts) expect((await fleet.exec(host.index, 'pgrep -x nginx')).code).toBe(0);

    const refused = await fleet.exec(0, 'systemctl stop nginx');
    expect(refused).toMatchObject({ code: 1, stderr: 'Failed to stop nginx.service: Access denied\n' });
    expect((await fleet.exec(0, 'sudo -n systemctl stop nginx')).code).toBe(0);
    expect((await fleet.exec(0, 'pgrep -x nginx')).code).toBe(1);
    expect((await fleet.exec(0, 'systemctl is-active nginx')).code).toBe(3);
    expect((await fleet.exec(1, 'pgrep -x nginx')).code).toBe(0);
  });

  it('asks for the password every time on a sudo: password host', async () => {
    const host = fleet.hosts[1] as FleetHost;
    expect((await fleet.exec(1, 'sudo -n true')).code).toBe(1);
    const session = await open(host, { password: host.password });
    try {
      const result = await run(session.client, "sudo -S -p '' id -un", `${host.password}\n`);
      expect(result).toEqual({ code: 0, stdout: 'opsc-fleet-root\n' });
    } finally {
      session.client.end();
    }
  });

  it('upgrades a package with apt and reads versions with rpm on a dnf host', async () => {
    const version = "dpkg-query -W -f='${Version}' nginx";
    expect((await fleet.exec(0, version)).stdout).toBe('1.22.1-9');
    expect((await fleet.exec(0, 'apt-get install -y --only-upgrade nginx')).code).toBe(100);
    expect((await fleet.exec(0, 'sudo -n apt-get install -y --only-upgrade nginx')).code).toBe(0);
    expect((await fleet.exec(0, version)).stdout).toBe('1.24.0-1');

    expect(await fleet.exec(2, "rpm -q --qf '%{VERSION}-%{RELEASE}' nginx")).toMatchObject({
      code: 0,
      stdout: '1.22.1-9',
    });
    expect((await fleet.exec(2, 'rpm -q curl')).code).toBe(1);
    expect(await fleet.exec(2, 'command -v dnf; command -v apt-get')).toMatchObject({
      code: 1,
      stdout: '/usr/local/sbin/dnf\n',
    });
  });

  it('accepts the encrypted client key and presents the host key it reports', async () => {
    const host = fleet.hosts[2] as FleetHost;
    const session = await open(host, {
      privateKey: fleet.clientKey.encryptedPrivateKey,
      passphrase: fleet.clientKey.passphrase,
    });
    session.client.end();
    expect(session.fingerprint).toBe(host.hostKey.fingerprint);

    const dir = await mkdtemp(path.join(tmpdir(), 'fleet-test-'));
    try {
      await writeFile(path.join(dir, 'key.pub'), `${host.hostKey.algorithm} ${host.hostKey.publicKey}\n`);
      const { stdout } = await promisify(execFile)('ssh-keygen', ['-lf', path.join(dir, 'key.pub')]);
      expect(stdout.split(' ')[1]).toBe(host.hostKey.fingerprint);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('drops live sessions on killSessions and accepts new ones', async () => {
    const session = await open(fleet.hosts[0] as FleetHost, { privateKey: fleet.clientKey.privateKey });
    const sleeping = run(session.client, 'sleep 30').catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await fleet.killSessions(0)).toBeGreaterThanOrEqual(1);
    await session.closed;
    await sleeping;
    expect((await fleet.exec(0, 'true')).code).toBe(0);
  });

  it('restarts a host with a new host key, keeping its state', async () => {
    const before = fleet.hosts[1]?.hostKey.fingerprint;
    await fleet.startHost(1, { newHostKey: true });
    const host = fleet.hosts[1] as FleetHost;
    expect(host.hostKey.fingerprint).not.toBe(before);
    const session = await open(host, { privateKey: fleet.clientKey.privateKey });
    session.client.end();
    expect(session.fingerprint).toBe(host.hostKey.fingerprint);
    expect(await fleet.exec(1, 'cat /etc/nginx/nginx.conf; pgrep -x nginx >/dev/null')).toMatchObject({
      code: 0,
      stdout: conf(1),
    });
  });

  it('stops every host by PID and closes the port', async () => {
    const pids = fleet.hosts.map((h) => h.pid);
    await fleet.stop();
    expect(pids.filter(alive)).toEqual([]);
    for (const host of fleet.hosts) expect(await portOpen(host.address, host.port)).toBe(false);
  });
});
