import { createReadStream } from 'node:fs';
import { COPY_CHUNK_BYTES } from './stage-script.js';

/**
 * The artifact as stdin for file-copy's upload (stage-script.ts): base64 lines of `COPY_CHUNK_BYTES` each, packed
 * into payloads that fit one Send under the envelope limit.
 */
/** The artifact bytes each payload of `artifactStdin` carries, for the upload's progress once it is sent. */
export const artifactBytesIn = new WeakMap<Buffer, number>();

export async function* artifactStdin(file: string, payloadLimit: number): AsyncGenerator<Buffer> {
  const lineBytes = (COPY_CHUNK_BYTES / 3) * 4 + 2;
  const linesPerPayload = Math.max(1, Math.floor(payloadLimit / lineBytes));
  let lines: Buffer[] = [];
  let raw = 0;
  const payload = (): Buffer => {
    const out = Buffer.concat(lines);
    artifactBytesIn.set(out, raw);
    lines = [];
    raw = 0;
    return out;
  };
  for await (const chunk of createReadStream(file, { highWaterMark: COPY_CHUNK_BYTES })) {
    lines.push(Buffer.from(`${(chunk as Buffer).toString('base64')}\r\n`, 'ascii'));
    raw += (chunk as Buffer).length;
    if (lines.length === linesPerPayload) yield payload();
  }
  if (lines.length) yield payload();
}

export async function* prepend(first: Buffer, rest: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield first;
  yield* rest;
}
