import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SERVER_SCRIPT = fileURLToPath(new URL('../bin/ensure-llama-server.sh', import.meta.url));
const MODEL_SCRIPT = fileURLToPath(new URL('../bin/ensure-model.sh', import.meta.url));

const run = (script: string): string =>
  execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();

/** llama.cpp's `llama-server`, found or built by `bin/ensure-llama-server.sh` (the one place that knows how). */
export const ensureLlamaServer = (): string => run(SERVER_SCRIPT);

/** The local planner model (a GGUF file), found or assembled and checked by `bin/ensure-model.sh`. */
export const ensureModel = (): string => run(MODEL_SCRIPT);
