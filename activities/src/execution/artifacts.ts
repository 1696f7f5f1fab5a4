import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { ErrorType } from '@opsc/contracts';
import { RemoteFailure } from './remote-failure.js';

/** Files copied to targets come from the executor's artifact folder, and nowhere else. */
export const sha256File = async (file: string): Promise<string> => {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
};

/** Resolves an artifact path inside the artifact folder, refusing anything (a symlink too) that leads outside it. */
export const resolveArtifact = async (artifactDir: string, relative: string): Promise<{ file: string; bytes: number }> => {
  const root = await realpath(artifactDir);
  let file: string;
  try {
    file = await realpath(path.resolve(root, relative));
  } catch {
    throw new RemoteFailure(ErrorType.NotFound, `no artifact ${relative} in the executor's artifact folder`);
  }
  if (!file.startsWith(root + path.sep)) throw new RemoteFailure(ErrorType.ValidationFailed, `artifact ${relative} resolves outside the artifact folder`);
  const info = await stat(file);
  if (!info.isFile()) throw new RemoteFailure(ErrorType.ValidationFailed, `artifact ${relative} is not a regular file`);
  return { file, bytes: info.size };
};
