import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

/** A local file's SHA-256, read as a stream. */
export const sha256File = async (file: string): Promise<string> => {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
};

/** Artifacts whose hash is remembered; the oldest is forgotten first. */
const ARTIFACT_HASHES_KEPT = 256;
const artifactHashes = new Map<string, { version: string; sha256: Promise<string> }>();

/**
 * The SHA-256 of an artifact, hashed once per version of the file: a step copying it to 500 hosts
 * reads it once, and concurrent callers share that read. A replaced or rewritten file (another
 * inode, size, mtime or ctime) is hashed again. The target checks what it received against this
 * hash, so a file changed between hashing and sending fails the copy rather than installing it.
 */
export const artifactSha256 = async (file: string): Promise<string> => {
  const info = await stat(file, { bigint: true });
  const version = `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
  const known = artifactHashes.get(file);
  if (known?.version === version) return known.sha256;
  const sha256 = sha256File(file);
  artifactHashes.delete(file);
  artifactHashes.set(file, { version, sha256 });
  sha256.catch(() => {
    if (artifactHashes.get(file)?.sha256 === sha256) artifactHashes.delete(file);
  });
  for (const oldest of artifactHashes.keys()) {
    if (artifactHashes.size <= ARTIFACT_HASHES_KEPT) break;
    artifactHashes.delete(oldest);
  }
  return sha256;
};
