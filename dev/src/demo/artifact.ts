import { createHash } from 'node:crypto';
import type { ApiSession } from './api-session.js';
import { SAMPLE_ARTIFACT } from './seed-shape.js';

export interface PlacedArtifact {
  /** What a file-copy step names as its source. */
  source: string;
  sha256: string;
  bytes: number;
}

/** A stand-in for stationcontroller.exe 2.0: a banner and 256 KiB that are the same on every machine. */
export const sampleArtifactContent = (): Buffer => {
  const blocks = [Buffer.from('stationcontroller 2.0 (build 204), OpsConductor demo artifact\n')];
  let seed = createHash('sha256').update('opsc-demo-stationcontroller-2.0').digest();
  for (let i = 0; i < 8192; i++) {
    blocks.push(seed);
    seed = createHash('sha256').update(seed).digest();
  }
  return Buffer.concat(blocks);
};

/**
 * The demo's sample artifact, uploaded to the tenant's artifact store through the API (as an
 * operator would, `POST /api/artifacts`): plans name it as a file copy's `source` and pin its
 * SHA-256. Uploading the same bytes again returns the version already stored.
 */
export const uploadSampleArtifact = async (session: ApiSession): Promise<PlacedArtifact> => {
  const content = sampleArtifactContent();
  const answer = await session.upload(`/api/artifacts?name=${encodeURIComponent(SAMPLE_ARTIFACT)}`, content);
  const sha256 = createHash('sha256').update(content).digest('hex');
  const stored = answer.body.artifact as { sha256?: unknown } | undefined;
  if (stored?.sha256 !== sha256) throw new Error('the artifact store answered with another SHA-256 than was sent');
  return { source: SAMPLE_ARTIFACT, sha256, bytes: content.length };
};
