import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '@opsc/dev';
import { DESTINATION, verifyScript, type Artifact, type BenchHost } from './rollout-change.js';

export const ANSIBLE_PLAYBOOK = path.join(REPO_ROOT, '.venv', 'bin', 'ansible-playbook');

export interface AnsibleResult {
  wallMs: number;
  failures: string[];
  log: string;
}

/**
 * The same three tasks as a playbook, each over all hosts before the next (strategy linear):
 * stat with a SHA-256 checksum, copy with `backup: yes` (with sudo), and a `sha256sum -c` check.
 */
const playbook = (artifact: Artifact) => `- hosts: bench
  gather_facts: false
  tasks:
    - name: check
      ansible.builtin.stat: { path: ${DESTINATION}, checksum_algorithm: sha256 }
    - name: copy
      become: true
      ansible.builtin.copy: { src: ${artifact.file}, dest: ${DESTINATION}, backup: true, mode: '0644' }
    - name: verify
      ansible.builtin.shell: ${JSON.stringify(verifyScript(artifact.sha256))}
      changed_when: false
`;

/*
 * sudo on a fleet host runs as the unprivileged opsc-fleet-root, which shares the group opsc-fleet
 * with the host users: Ansible hands its temporary files over through that group (there is no
 * setfacl here). The interpreter is named so no discovery round trip is added.
 */
const inventory = (hosts: readonly BenchHost[], keyFile: string) =>
  [
    '[bench]',
    ...hosts.map((h) => `${h.name} ansible_host=${h.address} ansible_port=${h.port} ansible_user=${h.username}`),
    '[bench:vars]',
    `ansible_ssh_private_key_file=${keyFile}`,
    'ansible_python_interpreter=/usr/bin/python3',
    'ansible_become_user=opsc-fleet-root',
    'ansible_common_remote_group=opsc-fleet',
    '',
  ].join('\n');

const config = (forks: number, controlDir: string) => `[defaults]
forks = ${forks}
strategy = linear
host_key_checking = False
retry_files_enabled = False
interpreter_python = /usr/bin/python3
[ssh_connection]
pipelining = True
control_path_dir = ${controlDir}
`;

const RECAP = /^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm;

/** ansible-playbook with forks = N; its ControlPersist masters are stopped through their sockets afterwards. */
export const ansibleRollout = async (
  dir: string,
  hosts: readonly BenchHost[],
  keyFile: string,
  artifact: Artifact,
  timeoutMs: number,
): Promise<AnsibleResult> => {
  await mkdir(dir, { recursive: true });
  const controlDir = path.join(dir, 'cp');
  await mkdir(controlDir, { recursive: true });
  await writeFile(path.join(dir, 'inventory.ini'), inventory(hosts, keyFile));
  await writeFile(path.join(dir, 'ansible.cfg'), config(hosts.length, controlDir));
  await writeFile(path.join(dir, 'rollout.yml'), playbook(artifact));
  const env = {
    ...process.env,
    ANSIBLE_CONFIG: path.join(dir, 'ansible.cfg'),
    ANSIBLE_HOME: path.join(dir, 'home'),
    ANSIBLE_NOCOLOR: '1',
  };

  const started = performance.now();
  const child = spawn(ANSIBLE_PLAYBOOK, ['-i', path.join(dir, 'inventory.ini'), path.join(dir, 'rollout.yml')], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const timer = setTimeout(() => {
    // Its own process group, stopped by that group's id: ansible-playbook and its forks.
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  }, timeoutMs);
  const code = await new Promise<number | null>((resolve, reject) =>
    child.once('error', reject).once('close', (c) => resolve(c)),
  );
  clearTimeout(timer);
  const wallMs = performance.now() - started;
  await stopControlMasters(controlDir);

  const failures: string[] = [];
  const seen = new Set<string>();
  for (const m of log.matchAll(RECAP)) {
    seen.add(m[1] ?? '');
    if (m[4] !== '0' || m[5] !== '0' || m[2] !== '3')
      failures.push(`${m[1]}: ok=${m[2]} unreachable=${m[4]} failed=${m[5]}`);
  }
  for (const h of hosts) if (!seen.has(h.name)) failures.push(`${h.name}: not in the play recap`);
  if (code !== 0) failures.push(`ansible-playbook exited with ${code}`);
  await writeFile(path.join(dir, 'ansible.log'), log);
  return { wallMs, failures, log: path.join(dir, 'ansible.log') };
};

/** `ssh -O exit` on each ControlPersist socket: the masters Ansible left running end now, not in 60 s. */
const stopControlMasters = async (controlDir: string): Promise<void> => {
  if (!existsSync(controlDir)) return;
  const sockets = await readdir(controlDir);
  await Promise.all(
    sockets.map((s) =>
      promisify(execFile)('ssh', ['-O', 'exit', '-S', path.join(controlDir, s), 'bench'], { timeout: 10_000 }).catch(
        () => undefined,
      ),
    ),
  );
};
