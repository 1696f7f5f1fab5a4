import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateMasterKey } from '@opsc/activities/vault';

/** The embedded stack's vault master key: made once (mode 0600) and handed to the executor only. */
export const ensureVaultKeyFile = (dir: string): string => {
  const file = path.join(dir, 'master.pem');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(file, generateMasterKey().pem, { mode: 0o600, flag: 'wx' });
  }
  return file;
};
