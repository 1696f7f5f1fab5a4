import { readFile } from 'node:fs/promises';

/**
 * `--hosts FILE` of the fleet CLIs: a JSON array with one options object per host (index order),
 * the same options `startSshFleet` / `startWinrmFleet` take from their `host(index)` callback.
 * The fleet's size is the array's length unless `--size` says more (the rest get the defaults).
 */
export const readHostSpecs = async (file: string): Promise<Record<string, unknown>[]> => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(`--hosts ${file}: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || parsed.length > 250)
    throw new Error(`--hosts ${file}: must be a JSON array of 1 to 250 host option objects`);
  parsed.forEach((entry, index) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      throw new Error(`--hosts ${file}: entry ${index} must be an object`);
  });
  return parsed as Record<string, unknown>[];
};
