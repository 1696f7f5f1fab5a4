import { createHash } from 'node:crypto';
import { ArtifactAnswer } from '@opsc/contracts/api';
import { expectAnswer, recordAnswer } from './api.js';

export const sha256Of = (content: Buffer | string): string => createHash('sha256').update(content).digest('hex');

/** A raw upload to `POST /api/artifacts`: the status and the parsed answer. */
export const postArtifact = async (
  apiUrl: string,
  token: string,
  name: string,
  content: Buffer | string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> => {
  const url = `${apiUrl}/api/artifacts?name=${encodeURIComponent(name)}`;
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', ...headers },
    body: typeof content === 'string' ? Buffer.from(content) : content,
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  recordAnswer(url, text);
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
};

/** Uploads an artifact through the API (as file-copy's source); fails unless it was stored. Returns its SHA-256. */
export const uploadArtifact = async (
  apiUrl: string,
  token: string,
  name: string,
  content: Buffer | string,
): Promise<string> => {
  const res = await postArtifact(apiUrl, token, name, content);
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`upload of ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  const { artifact } = expectAnswer(ArtifactAnswer, res.body as ArtifactAnswer, 'artifact upload');
  if (artifact.sha256 !== sha256Of(content)) throw new Error(`upload of ${name}: the API hashed other bytes`);
  return artifact.sha256;
};
