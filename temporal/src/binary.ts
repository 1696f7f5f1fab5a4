import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../bin/ensure-temporal.sh', import.meta.url));
const TEST_SERVER_SCRIPT = fileURLToPath(new URL('../bin/ensure-test-server.sh', import.meta.url));

/** The Temporal CLI binary, found or installed by `bin/ensure-temporal.sh` (the one place that knows how). */
export const ensureTemporalBinary = (): string =>
  execFileSync('bash', [SCRIPT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();

/**
 * The launcher of Temporal's time-skipping test server (a Java program), found or installed by
 * `bin/ensure-test-server.sh` into a cache outside the work tree; for the workflow tests only.
 */
export const ensureTestServerBinary = (): string =>
  execFileSync('bash', [TEST_SERVER_SCRIPT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
