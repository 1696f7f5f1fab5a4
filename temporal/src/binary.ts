import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../bin/ensure-temporal.sh', import.meta.url));

/** The Temporal CLI binary, found or installed by `bin/ensure-temporal.sh` (the one place that knows how). */
export const ensureTemporalBinary = (): string =>
  execFileSync('bash', [SCRIPT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
