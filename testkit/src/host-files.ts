import { createHash, randomUUID } from 'node:crypto';
import { chmod, chown, copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HOST_PATH, SHIMS_DIR } from './paths.js';
import { run, runOk } from './run.js';
import type { FleetAccounts } from './fleet-system.js';
import type { HostPlan } from './host-plan.js';
import type { ResolvedHostOptions } from './host-options.js';

export interface FleetHostKey {
  algorithm: string;
  /** Base64 of the key blob, as in the .pub file. */
  publicKey: string;
  /** `SHA256:...`, as `ssh-keygen -lf` prints it. */
  fingerprint: string;
}

/** Shim file in SHIMS_DIR -> its name on the host. dnf's shim is yum on a yum host. */
const PACKAGE_SHIMS: Record<ResolvedHostOptions['packageManager'], [string, string][]> = {
  apt: [
    ['apt-get', 'apt-get'],
    ['apt-get', 'apt'],
    ['apt-cache', 'apt-cache'],
    ['dpkg-query', 'dpkg-query'],
  ],
  dnf: [
    ['dnf', 'dnf'],
    ['rpm', 'rpm'],
  ],
  yum: [
    ['dnf', 'yum'],
    ['rpm', 'rpm'],
  ],
};
const SERVICE_SHIMS: Record<ResolvedHostOptions['init'], string[]> = {
  systemd: ['systemctl', 'service'],
  sysv: ['service'],
};
/** The power commands every host has, as shims (shims/power). */
const POWER_COMMANDS = ['shutdown', 'reboot', 'poweroff', 'halt'];

/** Where a host keeps the boot id its /proc/sys/kernel/random/boot_id shows (a bind mount, host-process.ts). */
export const bootIdFile = (dir: string): string => `${dir}/state/boot_id`;

/** A new boot id for the host's next boot, as the kernel makes one: a random UUID. */
export const writeBootId = async (dir: string): Promise<string> => {
  const id = randomUUID();
  await writeFile(bootIdFile(dir), `${id}\n`, { mode: 0o644 });
  return id;
};

/** Every emulated service runs a copy of this under the service's name. */
const SERVICE_BINARY = '/bin/sleep';

const makeDir = async (dir: string, mode: number, uid = 0, gid = 0): Promise<void> => {
  await mkdir(dir, { recursive: true });
  await chown(dir, uid, gid);
  // After chown, which clears the setgid bit.
  await chmod(dir, mode);
};

const putFile = async (file: string, content: string, mode: number, uid = 0, gid = 0): Promise<void> => {
  await writeFile(file, content);
  await chown(file, uid, gid);
  await chmod(file, mode);
};

/** Creates a host file and any missing parents below its mount point, owned by opsc-fleet-root as "root". */
const putHostFile = async (dir: string, dataPath: string, content: string, accounts: FleetAccounts): Promise<void> => {
  const [mountDir, ...rest] = dataPath.split('/');
  let parent = path.join(dir, mountDir ?? '');
  for (const segment of rest.slice(0, -1)) {
    parent = path.join(parent, segment);
    await makeDir(parent, 0o755, accounts.rootUid, accounts.gid);
  }
  await putFile(path.join(dir, dataPath), content, 0o644, accounts.rootUid, accounts.gid);
};

/**
 * A fresh data directory for the host: its home with the client key authorised, the shims, the
 * emulated services and packages, the private directories and the requested files.
 */
export const prepareHost = async (plan: HostPlan, accounts: FleetAccounts, clientPublicKey: string): Promise<void> => {
  const { dir, options } = plan;
  const uid = accounts.uids.get(plan.user);
  if (uid === undefined) throw new Error(`${plan.name}: user ${plan.user} does not exist`);
  const { rootUid, gid } = accounts;
  await rm(dir, { recursive: true, force: true });
  await makeDir(dir, 0o755);
  await makeDir(`${dir}/sshd`, 0o700);
  for (const sub of ['sbin', 'lib', 'libexec']) await makeDir(`${dir}/${sub}`, 0o755);
  for (const sub of ['nginx', 'backups', 'opt', 'varlib-opsconductor'])
    await makeDir(`${dir}/${sub}`, 0o755, rootUid, gid);
  await makeDir(`${dir}/tmp`, 0o1777);
  // Shared by the host user and opsc-fleet-root: setgid, group-writable (the shims use umask 002).
  for (const sub of ['state', 'state/svc', 'state/pkg']) await makeDir(`${dir}/${sub}`, 0o2775, rootUid, gid);

  await makeDir(`${plan.home}/.ssh`, 0o700, uid, gid);
  await chown(plan.home, uid, gid);
  await chmod(plan.home, 0o750);
  await putFile(`${plan.home}/.ssh/authorized_keys`, `${clientPublicKey.trim()}\n`, 0o600, uid, gid);
  // Debian's /etc/profile drops /usr/local/sbin for users; the shims must come first in login shells too.
  await putFile(
    `${plan.home}/.profile`,
    `# SSH fleet host: the shims in /usr/local/sbin come first.\nPATH=${HOST_PATH}\nexport PATH\n`,
    0o644,
    uid,
    gid,
  );

  for (const [source, name] of [
    ...SERVICE_SHIMS[options.init].map((s) => [s, s] as const),
    ...PACKAGE_SHIMS[options.packageManager],
  ]) {
    await copyFile(path.join(SHIMS_DIR, source), `${dir}/sbin/${name}`);
    await chmod(`${dir}/sbin/${name}`, 0o755);
  }
  // Every host has the power commands; the machine's own are hidden behind the guard (host-process.ts).
  for (const name of POWER_COMMANDS) {
    await copyFile(path.join(SHIMS_DIR, 'power'), `${dir}/sbin/${name}`);
    await chmod(`${dir}/sbin/${name}`, 0o755);
  }
  await copyFile(path.join(SHIMS_DIR, 'power-guard'), `${dir}/lib/power-guard`);
  await chmod(`${dir}/lib/power-guard`, 0o755);
  await writeBootId(dir);
  await copyFile(path.join(SHIMS_DIR, 'systemctl'), `${dir}/lib/systemctl-engine`);
  await chmod(`${dir}/lib/systemctl-engine`, 0o755);
  await copyFile(path.join(SHIMS_DIR, 'fleet-common.sh'), `${dir}/lib/fleet-common.sh`);
  await chmod(`${dir}/lib/fleet-common.sh`, 0o644);

  for (const [name, state] of Object.entries(options.services)) {
    await copyFile(SERVICE_BINARY, `${dir}/libexec/${name}`);
    await chmod(`${dir}/libexec/${name}`, 0o755);
    await putFile(
      `${dir}/state/svc/${name}.unit`,
      state === 'active' ? 'enabled\n' : 'disabled\n',
      0o664,
      rootUid,
      gid,
    );
  }
  for (const [name, { installed, available }] of Object.entries(options.packages)) {
    await putFile(`${dir}/state/pkg/${name}`, `${installed ?? ''}\n${available}\n`, 0o664, rootUid, gid);
  }
  for (const file of plan.files) await putHostFile(dir, file.dataPath, file.content, accounts);
};

export const parsePublicKey = (line: string): FleetHostKey => {
  const [algorithm, publicKey] = line.trim().split(/\s+/);
  if (!algorithm || !publicKey) throw new Error(`not an OpenSSH public key: ${line}`);
  const digest = createHash('sha256').update(Buffer.from(publicKey, 'base64')).digest('base64');
  return { algorithm, publicKey, fingerprint: `SHA256:${digest.replace(/=+$/, '')}` };
};

/** A new ed25519 host key (replacing any old one). */
export const generateHostKey = async (plan: HostPlan): Promise<FleetHostKey> => {
  await rm(plan.hostKeyFile, { force: true });
  await rm(`${plan.hostKeyFile}.pub`, { force: true });
  await runOk(`${plan.name}: generating its host key`, 'ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-N',
    '',
    '-C',
    plan.name,
    '-f',
    plan.hostKeyFile,
  ]);
  return parsePublicKey(await readFile(`${plan.hostKeyFile}.pub`, 'utf8'));
};

export const sshdConfig = (plan: HostPlan): string => {
  const keyboardInteractive = plan.options.auth === 'keyboard-interactive';
  return [
    `# sshd for SSH fleet host ${plan.name}, written by @opsc/testkit.`,
    `ListenAddress ${plan.address}:${plan.port}`,
    `HostKey ${plan.hostKeyFile}`,
    'PidFile none',
    'UsePAM yes',
    // The home lives under the fleet root, whose modes sshd's strict checks would refuse.
    'StrictModes no',
    `AllowUsers ${plan.user}`,
    'PermitRootLogin no',
    `MaxStartups ${plan.maxStartups}`,
    `MaxSessions ${plan.maxSessions}`,
    'LogLevel INFO',
    `PubkeyAuthentication ${keyboardInteractive ? 'no' : 'yes'}`,
    `PasswordAuthentication ${keyboardInteractive ? 'no' : 'yes'}`,
    `KbdInteractiveAuthentication ${keyboardInteractive ? 'yes' : 'no'}`,
    'AuthorizedKeysFile .ssh/authorized_keys',
    // Non-login sessions (`ssh host cmd`) get root's PATH, so the shims come first.
    `SetEnv PATH=${HOST_PATH}`,
    'PrintMotd no',
    'PrintLastLog no',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
};

/** Writes the host's sshd_config and has sshd check it. */
export const writeSshdConfig = async (plan: HostPlan): Promise<void> => {
  await writeFile(plan.configFile, sshdConfig(plan), { mode: 0o600 });
  const check = await run('/usr/sbin/sshd', ['-t', '-f', plan.configFile]);
  if (check.code !== 0) {
    throw new Error(
      `${plan.name}: sshd rejects its configuration ${plan.configFile} (exit ${check.code}): ${(check.stderr || check.stdout).trim()}`,
    );
  }
};
