import { createHash } from 'node:crypto';
import { isControlFlow, uncaught, type Op } from './op-support.js';
import type { WinIoError } from './win-files.js';

/**
 * The check-mode bodies (activities' winrm/check-scripts.ts) against the host's state: a service's
 * status and a file's SHA-256 are read, `would_change` reported; nothing on the host changes.
 */

const sha256Of = async (op: Op, path: string): Promise<string> => {
  const data = await op.ctx.host.files.read(path);
  return data === null ? '' : createHash('sha256').update(data).digest('hex');
};

const would = (op: Op, yes: boolean): void => op.fact('would_change', yes ? 'yes' : 'no');

export const serviceCheckOp = (op: Op): never => {
  const name = op.str('name');
  const svc = op.ctx.host.service(name) ?? op.stop(1, `Cannot find any service with service name '${name}'.`);
  op.fact('state', svc.status);
  let yes: boolean;
  if (op.is('action', 'start')) {
    op.fact('wanted', 'Running');
    yes = svc.status !== 'Running';
  } else if (op.is('action', 'stop')) {
    op.fact('wanted', 'Stopped');
    yes = svc.status !== 'Stopped';
  } else {
    op.fact('wanted', 'Running (restarted)');
    yes = true;
  }
  would(op, yes);
  op.out(`Service ${name} is ${svc.status}; ${op.str('action')} would change it: ${yes ? 'True' : 'False'}`);
  return op.exit(0);
};

export const fileCheckOp = async (op: Op): Promise<never> => {
  const destination = op.str('destination');
  const wanted = op.str('sha256').toLowerCase();
  op.fact('artifact_sha256', wanted);
  try {
    if (await op.ctx.host.files.isFile(destination)) {
      const now = await sha256Of(op, destination);
      op.fact('target_sha256', now);
      op.fact('backup', op.bool('backup') ? 'would be created' : 'none');
      would(op, now !== wanted);
      op.out(
        now === wanted
          ? `${destination} has the artifact's content`
          : `${destination} differs from the artifact (${now})`,
      );
    } else {
      op.fact('target_sha256', '');
      op.fact('backup', 'none (no file to replace)');
      would(op, true);
      op.out(`${destination} does not exist`);
    }
    return op.exit(0);
  } catch (err) {
    if (isControlFlow(err)) throw err;
    if ((err as WinIoError).kind === 'denied') op.stop(5, (err as WinIoError).message);
    throw uncaught('Get-FileHash', destination, err);
  }
};

export const fileRestoreCheckOp = async (op: Op): Promise<never> => {
  const { files } = op.ctx.host;
  const destination = op.str('destination');
  const backupFile = op.strOrNull('backupFile');
  try {
    const exists = await files.isFile(destination);
    if (backupFile === null) {
      would(op, exists);
      op.out(exists ? `${destination} would be removed (there was no file before)` : `${destination} does not exist`);
      return op.exit(0);
    }
    if (!(await files.isFile(backupFile)))
      op.stop(1, `the backup ${backupFile} does not exist: the restore would fail`);
    const b = await sha256Of(op, backupFile);
    op.fact('backup_sha256', b);
    const now = exists ? await sha256Of(op, destination) : '';
    op.fact('target_sha256', now);
    would(op, now !== b);
    return op.exit(0);
  } catch (err) {
    if (isControlFlow(err)) throw err;
    if ((err as WinIoError).kind === 'denied') op.stop(5, (err as WinIoError).message);
    throw uncaught('Get-FileHash', destination, err);
  }
};
