import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiDocs, REPO_ROOT } from '@opsc/dev';

describe('the checked-in API reference', () => {
  // Generated in memory from @opsc/contracts/api and compared with the files as checked in.
  for (const [file, text] of Object.entries(apiDocs())) {
    it(`${file} matches the contract`, () => {
      let stored = '';
      try {
        stored = readFileSync(path.join(REPO_ROOT, file), 'utf8');
      } catch {
        stored = '(missing)';
      }
      expect(
        stored === text,
        `${file} is stale: the API contract (contracts/src/api) changed. Run \`npm run docs:api\` and commit the result.`,
      ).toBe(true);
    });
  }
});
