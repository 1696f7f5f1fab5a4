import { createHash } from 'node:crypto';
import { isControlFlow, methodError, uncaught, type Op } from './op-support.js';
import { WinIoError } from './win-files.js';
import { joinWin, leafOf, parentOf } from './win-paths.js';

/** The `file-copy` and `file-restore` bodies, step by step as the PowerShell runs them. */

const BAD_BASE64 =
  'The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding characters, or an illegal character among the padding characters. ';

/** `[Convert]::FromBase64String`: whitespace ignored, anything else malformed is a FormatException. */
const fromBase64 = (line: string): Buffer => {
  const text = line.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw methodError('FromBase64String', 1, new WinIoError('io', BAD_BASE64));
  if (text.length % 4 !== 0) throw methodError('FromBase64String', 1, new WinIoError('io', 'Invalid length for a Base-64 char array or string.'));
  return Buffer.from(text, 'base64');
};

export const fileCopyOp = async (op: Op): Promise<never> => {
  const { files } = op.ctx.host;
  const { io } = op.ctx;
  const destination = op.str('destination');
  let part: string | undefined;
  try {
    const dir = parentOf(destination);
    if (!(await files.isDirectory(dir))) await files.createDirectory(dir);
    part = joinWin(dir, `.opsc-${op.nonce}.part`);
    const sha = createHash('sha256');
    const out = await files.openForWrite(part).catch((err: unknown) => Promise.reject(methodError('Open', 3, err)));
    let bytes = 0;
    try {
      for (let line = await io.readLine(); line !== null; line = await io.readLine()) {
        if (line.length === 0) continue;
        const chunk = fromBase64(line);
        sha.update(chunk);
        await out.write(chunk);
        bytes += chunk.length;
      }
    } finally {
      await out.close();
    }
    const hash = sha.digest('hex');
    op.fact('sha256', hash);
    op.fact('bytes', bytes);
    if (hash !== op.str('sha256').toLowerCase()) {
      await files.remove(part);
      op.stop(3, `SHA-256 of the received file is ${hash}, expected ${op.str('sha256')}`);
    }
    let backup = '';
    if (await files.isFile(destination)) {
      if (op.bool('backup')) {
        backup = joinWin(op.str('backupDir'), leafOf(destination));
        if (!(await files.exists(backup))) {
          await files.createDirectory(op.str('backupDir'));
          await files.copy(destination, backup);
        }
      }
      op.fact('replaced', 'true');
    } else op.fact('replaced', 'false');
    await files.move(part, destination);
    op.fact('backup', backup);
    op.out(`copied ${bytes} bytes to ${destination} (sha256 ${hash})`);
    return op.exit(0);
  } catch (err) {
    if (isControlFlow(err)) throw err;
    const e = err as WinIoError;
    // catch [System.UnauthorizedAccessException] comes first and leaves the .part file behind.
    if (e.kind === 'denied') op.stop(5, (e.inner ?? e).message);
    if (part && (await files.exists(part))) await files.remove(part).catch(() => undefined);
    return op.stop(1, e.message);
  }
};

export const fileRestoreOp = async (op: Op): Promise<never> => {
  const { files } = op.ctx.host;
  const destination = op.str('destination');
  const backupFile = op.strOrNull('backupFile');
  let step = 'Remove-Item';
  try {
    if (backupFile === null) {
      if (await files.exists(destination)) {
        await files.remove(destination);
        op.out(`removed ${destination} (there was no file before)`);
      } else op.out(`${destination} is already absent`);
      op.fact('restored', 'removed');
      return op.exit(0);
    }
    if (!(await files.isFile(backupFile))) op.stop(1, `the backup ${backupFile} does not exist`);
    step = 'Copy-Item';
    await files.copy(backupFile, destination);
    op.out(`restored ${destination} from ${backupFile}`);
    op.fact('restored', 'from-backup');
    return op.exit(0);
  } catch (err) {
    if (isControlFlow(err)) throw err;
    if ((err as WinIoError).kind === 'denied') op.stop(5, (err as WinIoError).message);
    // Only UnauthorizedAccessException is caught; anything else ends the script as an error record.
    throw uncaught(step, destination, err);
  }
};
