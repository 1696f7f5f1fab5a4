import { chmod, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { readFileSync, unlinkSync } from 'node:fs';
import {
  APT_WHITEOUTS,
  FLEET_GROUP,
  FLEET_ROOT,
  FLEET_ROOT_USER,
  LOCK_FILE,
  PRIVATE_MOUNTS,
  SELF_MOUNT,
  SUDOERS_FILE,
} from './paths.js';
import { run, runOk, sleep } from './run.js';
import type { ResolvedHostOptions } from './host-options.js';

/** Whether a process exists (EPERM still means it does). */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Checks what a fleet needs of the machine, with a message that says what to do. */
export const checkMachine = (): void => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    throw new Error('an SSH fleet needs root on Linux (it starts sshd in mount and PID namespaces and creates users)');
  }
};

/** The privilege-separation directory sshd needs, the fleet root and every mount point. */
export const ensureMachineDirs = async (): Promise<void> => {
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  await chmod('/run/sshd', 0o755);
  await mkdir(FLEET_ROOT, { recursive: true, mode: 0o755 });
  await chmod(FLEET_ROOT, 0o755);
  await mkdir(SELF_MOUNT, { recursive: true, mode: 0o755 });
  for (const mountPoint of Object.keys(PRIVATE_MOUNTS)) await mkdir(mountPoint, { recursive: true, mode: 0o755 });
  await mkdir(APT_WHITEOUTS, { recursive: true, mode: 0o755 });
  const present = new Set(await readdir(APT_WHITEOUTS));
  const missing = (await readdir('/usr/bin')).filter((name) => /^(apt|dpkg)([-.]|$)/.test(name) && !present.has(name));
  if (missing.length > 0) {
    // Node has no mknod; one shell runs it for every name, passed as arguments.
    await runOk('creating overlay whiteouts for apt and dpkg', 'sh', [
      '-c',
      'cd "$1" && shift && for f; do mknod "$f" c 0 0; done',
      'sh',
      APT_WHITEOUTS,
      ...missing,
    ]);
  }
};

/**
 * One fleet at a time: the lock file holds the harness PID and is stale once that process is gone.
 * A fleet of another live process is waited for up to `waitMs` (test files of the unit and the
 * integration project may overlap); one of this process is an error at once.
 */
export const acquireLock = async (waitMs: number): Promise<void> => {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      await writeFile(LOCK_FILE, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number((await readFile(LOCK_FILE, 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(holder) || holder <= 0 || !isAlive(holder)) {
      await rm(LOCK_FILE, { force: true });
      continue;
    }
    if (holder === process.pid)
      throw new Error(`this process already runs an SSH fleet (${LOCK_FILE}); stop it before starting another`);
    if (Date.now() > deadline) {
      throw new Error(
        `another SSH fleet is running (PID ${holder} holds ${LOCK_FILE}, waited ${Math.round(waitMs / 1000)} s); stop it before starting a new one`,
      );
    }
    await sleep(250);
  }
};

/** Synchronous, for the exit hook too. Leaves a lock that another process holds alone. */
export const releaseLockSync = (): void => {
  try {
    if (readFileSync(LOCK_FILE, 'utf8').trim() === String(process.pid)) unlinkSync(LOCK_FILE);
  } catch {
    // No lock file.
  }
};

export interface FleetAccounts {
  gid: number;
  rootUid: number;
  uids: Map<string, number>;
}

interface PasswdEntry {
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

const readPasswd = async (): Promise<Map<string, PasswdEntry>> => {
  const { stdout } = await runOk('reading the user database', 'getent', ['passwd']);
  const users = new Map<string, PasswdEntry>();
  for (const line of stdout.split('\n')) {
    const [name, , uid, gid, , home, shell] = line.split(':');
    if (name && uid && gid && home !== undefined && shell !== undefined)
      users.set(name, { uid: Number(uid), gid: Number(gid), home, shell });
  }
  return users;
};

/**
 * The group, opsc-fleet-root and one user per host, created only where missing: the users stay
 * between runs, so a warm start reads the user database once and adds nobody.
 */
export const ensureAccounts = async (hostUsers: readonly { name: string; home: string }[]): Promise<FleetAccounts> => {
  const group = await run('getent', ['group', FLEET_GROUP]);
  if (group.code !== 0) await runOk(`creating group ${FLEET_GROUP}`, 'groupadd', [FLEET_GROUP]);
  const gid = Number(
    (await runOk(`reading group ${FLEET_GROUP}`, 'getent', ['group', FLEET_GROUP])).stdout.split(':')[2],
  );
  let users = await readPasswd();
  let changed = false;
  if (!users.has(FLEET_ROOT_USER)) {
    await runOk(`creating user ${FLEET_ROOT_USER}`, 'useradd', [
      '-r',
      '-M',
      '-d',
      '/nonexistent',
      '-s',
      '/usr/sbin/nologin',
      '-g',
      FLEET_GROUP,
      FLEET_ROOT_USER,
    ]);
    changed = true;
  }
  // useradd and usermod lock the user database, so one at a time.
  for (const { name, home } of hostUsers) {
    const entry = users.get(name);
    if (!entry) {
      await runOk(`creating user ${name}`, 'useradd', ['-M', '-d', home, '-s', '/bin/bash', '-g', FLEET_GROUP, name]);
      changed = true;
    } else if (entry.home !== home || entry.gid !== gid || entry.shell !== '/bin/bash') {
      await runOk(`updating user ${name}`, 'usermod', ['-d', home, '-s', '/bin/bash', '-g', FLEET_GROUP, name]);
    }
  }
  if (changed) users = await readPasswd();
  const uidOf = (name: string): number => {
    const entry = users.get(name);
    if (!entry) throw new Error(`user ${name} is missing after creation`);
    return entry.uid;
  };
  return { gid, rootUid: uidOf(FLEET_ROOT_USER), uids: new Map(hostUsers.map(({ name }) => [name, uidOf(name)])) };
};

/**
 * All passwords in one chpasswd call; they travel on stdin, never in argv. SHA-512 with 1,000 rounds
 * rather than PAM's yescrypt: 200 users take 0.1 s instead of 4, and password logins in benchmarks
 * stay cheap. The passwords are random and the hosts only on loopback.
 */
export const setPasswords = async (passwords: readonly { name: string; password: string }[]): Promise<void> => {
  await runOk("setting the fleet users' passwords", 'chpasswd', ['--crypt-method', 'SHA512', '--sha-rounds', '1000'], {
    input: passwords.map(({ name, password }) => `${name}:${password}\n`).join(''),
  });
};

/** sudo for each host user as its options say, always as opsc-fleet-root, checked by visudo before use. */
export const installSudoers = async (
  hosts: readonly { user: string; options: ResolvedHostOptions }[],
): Promise<void> => {
  const lines = ['# Written by @opsc/testkit for an SSH fleet; removed when the fleet stops.'];
  for (const { user, options } of hosts) {
    if (options.sudo === 'none') continue;
    lines.push(`Defaults:${user} timestamp_timeout=0, !lecture, runas_default=${FLEET_ROOT_USER}`);
    lines.push(`${user} ALL=(${FLEET_ROOT_USER}) ${options.sudo === 'nopasswd' ? 'NOPASSWD: ' : ''}ALL`);
  }
  // sudo's @includedir skips names with a dot, so the candidate is inert until renamed.
  const candidate = `${SUDOERS_FILE}.new`;
  await writeFile(candidate, `${lines.join('\n')}\n`, { mode: 0o440 });
  await chmod(candidate, 0o440);
  const check = await run('visudo', ['-c', '-f', candidate]);
  if (check.code !== 0) {
    await rm(candidate, { force: true });
    throw new Error(`visudo rejected the fleet's sudoers file: ${(check.stderr || check.stdout).trim()}`);
  }
  await rename(candidate, SUDOERS_FILE);
};

export const removeSudoersSync = (): void => {
  try {
    unlinkSync(SUDOERS_FILE);
  } catch {
    // Already gone.
  }
};
