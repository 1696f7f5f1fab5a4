import { appendFileSync } from 'node:fs';
import { inject } from 'vitest';

/**
 * Test secrets (fleet passwords, key material) are registered here as fleets start; when the run
 * ends, the global teardown reads every workflow history on the shared Temporal server and fails the
 * run if any of them holds one. The file lives in the run's private temporary folder.
 */
export const registerTestSecrets = (label: string, secrets: readonly string[]): void => {
  const usable = secrets.filter((s) => s.length >= 8);
  appendFileSync(inject('secretsFile'), usable.map((secret) => `${JSON.stringify({ label, secret })}\n`).join(''), {
    mode: 0o600,
  });
};
