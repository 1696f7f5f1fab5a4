import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The embedded stack's trigger key (docs/triggers.md): generic triggers' secrets are derived from it.
 * Made once (mode 0600) and handed to the orchestrator only; the executor never needs it.
 */
export const ensureTriggerKeyFile = (dir: string): string => {
  const file = path.join(dir, 'trigger.key');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  }
  return file;
};
