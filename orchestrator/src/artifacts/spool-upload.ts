import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import os from 'node:os';
import path from 'node:path';

/** An upload larger than the limit: nothing of it is kept. */
export class ArtifactTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`the artifact is larger than the limit of ${maxBytes} bytes (ARTIFACT_MAX_BYTES)`);
  }
}

/** No byte of the body arrived for the idle time: the upload is ended, nothing kept. */
export class UploadStalled extends Error {
  constructor(readonly idleSeconds: number) {
    super(`no byte of the upload arrived for ${idleSeconds} s (ARTIFACT_UPLOAD_IDLE_SECONDS); nothing was stored`);
  }
}

/** The client went away before the body ended. */
export class UploadAborted extends Error {}

export interface Spooled {
  file: string;
  sha256: string;
  size: number;
}

/**
 * Reads the body into a private file (a folder of its own, mode 0700; the file 0600), hashing and
 * counting as it arrives, so that no database connection waits on a slow sender. The socket is not
 * destroyed on a refusal: the caller answers (413, 408) and closes the connection. `use` runs with
 * the spooled file; the folder is removed afterwards, whatever happens.
 */
export const withSpooledUpload = async <T>(
  req: IncomingMessage,
  limits: { maxBytes: number; idleSeconds: number },
  use: (spooled: Spooled) => Promise<T>,
): Promise<T> => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'opsc-orchestrator-upload-'));
  try {
    const file = path.join(dir, 'body');
    const spooled = await spool(req, file, limits);
    return await use(spooled);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

const spool = (req: IncomingMessage, file: string, limits: { maxBytes: number; idleSeconds: number }) =>
  new Promise<Spooled>((resolve, reject) => {
    const out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
    const hash = createHash('sha256');
    let size = 0;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const idle = () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(new UploadStalled(limits.idleSeconds)), limits.idleSeconds * 1000);
    };
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('close', onClose).off('error', onError);
      if (err) {
        // Stop reading (the rest is not waited for); the answer closes the connection.
        req.pause();
        out.destroy();
        out.once('close', () => reject(err));
        return;
      }
      out.end((err?: Error | null) => (err ? reject(err) : resolve({ file, sha256: hash.digest('hex'), size })));
    };
    const onData = (chunk: Buffer) => {
      idle();
      size += chunk.length;
      if (size > limits.maxBytes) return finish(new ArtifactTooLarge(limits.maxBytes));
      hash.update(chunk);
      if (!out.write(chunk)) {
        req.pause();
        out.once('drain', () => {
          if (!done) req.resume();
        });
      }
    };
    const onEnd = () => finish();
    const onClose = () => finish(new UploadAborted('the client closed the connection before the upload ended'));
    const onError = (err: Error) => finish(err);
    out.once('error', (err) => finish(err));
    req.on('data', onData).once('end', onEnd).once('close', onClose).once('error', onError);
    idle();
  });
