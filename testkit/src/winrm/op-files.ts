import { createHash } from 'node:crypto';
import { initializeOpscFolder } from './op-private-folder.js';
import { isControlFlow, methodError, uncaught, type Op } from './op-support.js';
import { WinIoError } from './win-files.js';
import { joinWin, leafOf, parentOf } from './win-paths.js';

/** The `file-copy` upload and copy and the `file-restore` body, step by step as the PowerShell runs them. */

const BAD_BASE64 =
  'The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding characters, or an illegal character among the padding characters. ';

/** `[Convert]::FromBase64String`: whitespace ignored, anything else malformed is a FormatException. */
const fromBase64 = (line: string): Buffer => {
  const text = line.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw methodError('FromBase64String', 1, new WinIoError('io', BAD_BASE64));
  if (text.length % 4 !== 0)
    throw methodError(
      'FromBase64String',
      1,
      new WinIoError('io', 'Invalid length for a Base-64 char array or string.'),
    );
  return Buffer.from(text, 'base64');
};

/**
 * The file-copy upload (stage-script.ts): a private staging folder (refused when another account owns it or may write it), orphans older than a day
 * removed (a `.part` a live upload holds open cannot be), stdin's base64 lines to `<staged>.part`
 * up to the size announced, then on a matching SHA-256 moved to the staged name.
 */
export const fileStageOp = async (op: Op): Promise<never> => {
  const { files } = op.ctx.host;
  const { io } = op.ctx;
  const dir = op.str('stagingDir');
  const staged = op.str('staged');
  const expected = op.int('bytes');
  const part = `${staged}.part`;
  try {
    const why = await initializeOpscFolder(files, op.str('root'), dir).catch((err: unknown) =>
      Promise.reject(methodError('CreateDirectory', 2, err)),
    );
    if (why)
      op.stop(70, `opsconductor: will not stage an upload in a folder others control: ${why}; ${op.str('advice')}`);
    const cutoff = Date.now() - op.int('retentionHours') * 3_600_000;
    for (const e of await files.list(dir))
      if (!e.directory && e.modified.getTime() < cutoff) await files.remove(e.path).catch(() => undefined);
    const sha = createHash('sha256');
    const out = await files.openForWrite(part).catch((err: unknown) => Promise.reject(methodError('Open', 4, err)));
    let bytes = 0;
    let tooMuch = false;
    try {
      for (let line = await io.readLine(); line !== null; line = await io.readLine()) {
        if (line.length === 0) continue;
        const chunk = fromBase64(line);
        bytes += chunk.length;
        if (bytes > expected) {
          tooMuch = true;
          break;
        }
        sha.update(chunk);
        await out.write(chunk);
      }
    } finally {
      await out.close();
    }
    if (tooMuch) {
      await files.remove(part);
      op.stop(3, `more than the ${expected} bytes announced arrived; nothing was staged`);
    }
    const hash = sha.digest('hex');
    if (hash !== op.str('sha256').toLowerCase()) {
      await files.remove(part);
      op.fact('sha256', hash);
      op.fact('bytes', bytes);
      op.stop(3, `SHA-256 of the received file is ${hash}, expected ${op.str('sha256')}`);
    }
    await files.move(part, staged);
    op.fact('staged', bytes);
    return op.exit(0);
  } catch (err) {
    if (isControlFlow(err)) throw err;
    const e = err as WinIoError;
    if (e.kind === 'denied') op.stop(5, (e.inner ?? e).message);
    if (await files.exists(part)) await files.remove(part).catch(() => undefined);
    return op.stop(1, e.message);
  }
};

/** Copies the staged upload beside the destination, hashing it, then backs up and moves it in; stdin is never read. */
export const fileCopyOp = async (op: Op): Promise<never> => {
  const { files } = op.ctx.host;
  const destination = op.str('destination');
  const staged = op.str('staged');
  const dropStaged = () => files.remove(staged).catch(() => undefined);
  let part: string | undefined;
  try {
    const dir = parentOf(destination);
    if (!(await files.isDirectory(dir))) await files.createDirectory(dir);
    part = joinWin(dir, `.opsc-${op.nonce}.part`);
    const data = await files.read(staged);
    if (data === null) throw methodError('Open', 4, new WinIoError('not-found', `Could not find file '${staged}'.`));
    const out = await files.openForWrite(part).catch((err: unknown) => Promise.reject(methodError('Open', 3, err)));
    try {
      await out.write(data);
    } finally {
      await out.close();
    }
    await dropStaged();
    const hash = createHash('sha256').update(data).digest('hex');
    op.fact('sha256', hash);
    op.fact('bytes', data.length);
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
    op.out(`copied ${data.length} bytes to ${destination} (sha256 ${hash})`);
    return op.exit(0);
  } catch (err) {
    if (isControlFlow(err)) throw err;
    await dropStaged();
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
