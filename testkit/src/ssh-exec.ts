import { run, type RunResult } from './run.js';
import type { ClientFiles } from './client-key.js';
import type { ResolvedHostOptions } from './host-options.js';

export interface SshTarget {
  address: string;
  port: number;
  username: string;
  password: string;
  options: Pick<ResolvedHostOptions, 'auth'>;
}

/**
 * Runs a script on a host through its real sshd with the OpenSSH client: the client key, or on a
 * keyboard-interactive host the password through SSH_ASKPASS. No known_hosts: a host key may change.
 */
export const sshExec = (target: SshTarget, client: ClientFiles, script: string): Promise<RunResult> => {
  const args = [
    '-F',
    '/dev/null',
    '-p',
    String(target.port),
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'LogLevel=ERROR',
    '-o',
    'ConnectTimeout=10',
  ];
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.SSH_AUTH_SOCK;
  if (target.options.auth === 'keyboard-interactive') {
    args.push(
      '-o',
      'BatchMode=no',
      '-o',
      'PreferredAuthentications=keyboard-interactive',
      '-o',
      'PubkeyAuthentication=no',
      '-o',
      'NumberOfPasswordPrompts=1',
    );
    Object.assign(env, {
      SSH_ASKPASS: client.askpass,
      SSH_ASKPASS_REQUIRE: 'force',
      OPSC_FLEET_PASSWORD: target.password,
    });
  } else {
    args.push(
      '-i',
      client.keyFile,
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      'PreferredAuthentications=publickey',
    );
  }
  // `--` ends ssh's options: a script that starts with '-' stays the remote command.
  return run('ssh', [...args, '--', `${target.username}@${target.address}`, script], { env });
};
