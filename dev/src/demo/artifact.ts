import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SAMPLE_ARTIFACT } from './seed-shape.js';

export interface PlacedArtifact {
  /** What a file-copy step names as its source. */
  source: string;
  sha256: string;
  bytes: number;
}

/** A stand-in for stationcontroller.exe 2.0: a banner and 256 KiB that are the same on every machine. */
const sampleContent = (): Buffer => {
  const blocks = [Buffer.from('stationcontroller 2.0 (build 204), OpsConductor demo artifact\n')];
  let seed = createHash('sha256').update('opsc-demo-stationcontroller-2.0').digest();
  for (let i = 0; i < 8192; i++) {
    blocks.push(seed);
    seed = createHash('sha256').update(seed).digest();
  }
  return Buffer.concat(blocks);
};

/**
 * The demo's sample artifact, put where file copies read their sources today: the executor's
 * artifact folder (EXECUTOR_ARTIFACT_DIR, `.data/artifacts` under `npm run up`). This is the one
 * place that decides how an artifact reaches the executors, so it is the one function to change
 * when artifacts are uploaded through the API instead. A file already there is kept as it is.
 */
export const placeSampleArtifact = async (artifactDir: string): Promise<PlacedArtifact> => {
  const file = path.join(artifactDir, SAMPLE_ARTIFACT);
  if (!existsSync(file)) {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o750 });
    await writeFile(file, sampleContent(), { mode: 0o640 });
  }
  const content = await readFile(file);
  return {
    source: SAMPLE_ARTIFACT,
    sha256: createHash('sha256').update(content).digest('hex'),
    bytes: content.length,
  };
};
