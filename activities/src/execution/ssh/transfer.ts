import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { SFTPWrapper, TransferOptions } from 'ssh2';
import { DEFAULT_BACKUP_DIR, ErrorType, type LinuxOperation } from '@opsc/contracts';
import { RemoteFailure } from '../remote-failure.js';
import { sha256File } from '../artifacts.js';
import { shQuote } from './shell-quote.js';
import { factFn, type RemoteScript } from './linux-scripts.js';

type FileCopy = Extract<LinuxOperation, { op: 'file-copy' }>;
type FileFetch = Extract<LinuxOperation, { op: 'file-fetch' }>;

const sftpCall = <T>(what: string, run: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) =>
    run((err, value) =>
      err ? reject(new RemoteFailure(ErrorType.CommandFailed, `${what}: ${err.message}`)) : resolve(value as T),
    ),
  );

/** Uploads into a fresh staging folder (mode 0711, random names) that only the installing script reads. */
export const uploadToStaging = async (
  sftp: SFTPWrapper,
  localFile: string,
  onProgress: (transferred: number, total: number) => void,
): Promise<{ dir: string; file: string }> => {
  const dir = `/tmp/opsc-${randomBytes(8).toString('hex')}`;
  const file = `${dir}/payload-${randomBytes(8).toString('hex')}`;
  await sftpCall('creating the staging folder', (cb) => sftp.mkdir(dir, { mode: 0o711 }, cb));
  const options: TransferOptions = {
    mode: 0o644,
    concurrency: 16,
    chunkSize: 32_768,
    step: (done, _chunk, total) => onProgress(done, total),
  };
  await sftpCall('uploading', (cb) => sftp.fastPut(localFile, file, options, cb));
  return { dir, file };
};

export const removeStaging = async (sftp: SFTPWrapper, staged: { dir: string; file: string }): Promise<void> => {
  await sftpCall('removing the staged file', (cb) => sftp.unlink(staged.file, cb)).catch(() => undefined);
  await sftpCall('removing the staging folder', (cb) => sftp.rmdir(staged.dir, cb)).catch(() => undefined);
};

/**
 * Removes the staging folder, as the login user who made it: in a sticky /tmp nobody else may,
 * not even sudo's target user unless that is root. Run after the install in the same session.
 */
export const stagingRemoval = (staged: { dir: string; file: string }): string =>
  `rm -f -- ${shQuote(staged.file)}; rmdir -- ${shQuote(staged.dir)} 2>/dev/null`;

/**
 * Installs a staged upload: checks its SHA-256, backs up the file it replaces (once per job and
 * step, so a retry never overwrites the original's backup), writes beside the destination and
 * renames into place, then checks the hash again.
 */
export const installScript = (
  op: FileCopy,
  staged: string,
  sha256: string,
  ctx: { jobId: string; stepId: string; nonce: string },
): RemoteScript => {
  const backupRel = `files/${ctx.jobId}/${ctx.stepId}${op.destination}`;
  const ownership =
    op.owner || op.group ? `chown ${shQuote(`${op.owner ?? ''}${op.group ? `:${op.group}` : ''}`)} "$part"` : '';
  const mode = op.mode
    ? `chmod ${shQuote(op.mode)} "$part"`
    : `[ -e "$dst" ] && chmod --reference="$dst" "$part" 2>/dev/null || true`;
  const backup = op.backup
    ? `bdir=${shQuote(DEFAULT_BACKUP_DIR)}
mkdir -p -- "$bdir" 2>/dev/null && [ -w "$bdir" ] || bdir="$HOME/.opsc/backups"
backup="$bdir"/${shQuote(backupRel)}
if [ -e "$backup" ]; then echo "keeping the backup an earlier attempt made: $backup"
elif [ -e "$dst" ]; then mkdir -p -- "$(dirname -- "$backup")" && cp -p -- "$dst" "$backup"
else backup=''; fi
fact backup "$backup"`
    : `fact backup ''`;
  return {
    shell: 'sh',
    reportsFacts: true,
    script: `${factFn(ctx.nonce)}
set -e
src=${shQuote(staged)}; dst=${shQuote(op.destination)}; want=${shQuote(sha256)}
got=$(sha256sum -- "$src" | cut -d' ' -f1)
[ "$got" = "$want" ] || { echo "checksum mismatch after transfer: got $got, want $want" >&2; exit 3; }
[ -d "$(dirname -- "$dst")" ] || { echo "destination folder $(dirname -- "$dst") does not exist" >&2; exit 2; }
${backup}
part="$(dirname -- "$dst")/.$(basename -- "$dst").opsc-part"
cp -- "$src" "$part"
${mode}
${ownership}
mv -f -- "$part" "$dst"
got=$(sha256sum -- "$dst" | cut -d' ' -f1)
[ "$got" = "$want" ] || { echo "checksum mismatch at the destination: got $got, want $want" >&2; exit 3; }
fact sha256 "$got"
fact destination "$dst"
fact bytes "$(wc -c < "$dst" | tr -d ' ')"
echo "copied to $dst (sha256 $got)"
`,
  };
};

/** Where a fetched file lands: under `fetched/<job>/<target>/` in the artifact folder. */
export const fetchDestination = (artifactDir: string, op: FileFetch, jobId: string, targetName: string): string =>
  path.join(artifactDir, 'fetched', jobId, targetName.replace(/[^A-Za-z0-9._-]/g, '_'), op.destination);

/** Downloads a file, then compares its SHA-256 with the one the target computes. */
export const download = async (
  sftp: SFTPWrapper,
  op: FileFetch,
  destination: string,
  remoteSha256: () => Promise<string>,
  onProgress: (transferred: number, total: number) => void,
): Promise<{ sha256: string; bytes: number }> => {
  await mkdir(path.dirname(destination), { recursive: true });
  const part = `${destination}.part-${randomBytes(4).toString('hex')}`;
  try {
    await sftpCall(`downloading ${op.source}`, (cb) =>
      sftp.fastGet(op.source, part, { concurrency: 16, chunkSize: 32_768, step: (d, _c, t) => onProgress(d, t) }, cb),
    );
    const [local, remote] = await Promise.all([sha256File(part), remoteSha256()]);
    if (local !== remote)
      throw new RemoteFailure(
        ErrorType.CommandFailed,
        `checksum mismatch after download: got ${local}, the target has ${remote}`,
      );
    await rename(part, destination);
    return { sha256: local, bytes: (await stat(destination)).size };
  } finally {
    await rm(part, { force: true });
  }
};
