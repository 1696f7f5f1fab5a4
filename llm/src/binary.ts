import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const SERVER_SCRIPT = fileURLToPath(new URL('../bin/ensure-llama-server.sh', import.meta.url));
const MODEL_SCRIPT = fileURLToPath(new URL('../bin/ensure-model.sh', import.meta.url));

/**
 * Runs an ensure script and resolves with the path it prints. Asynchronous: a first build takes
 * minutes (or waits for another one, by a lock), and the caller's event loop must go on meanwhile.
 * The script's progress goes to this process's stderr.
 */
const run = async (script: string): Promise<string> => {
  const child = promisify(execFile)('bash', [script], { encoding: 'utf8', maxBuffer: 1 << 20 });
  child.child.stderr?.pipe(process.stderr);
  return (await child).stdout.trim();
};

/** llama.cpp's `llama-server`, found or built by `bin/ensure-llama-server.sh` (the one place that knows how). */
export const ensureLlamaServer = (): Promise<string> => run(SERVER_SCRIPT);

/** The local planner model (a GGUF file), found or assembled and checked by `bin/ensure-model.sh`. */
export const ensureModel = (): Promise<string> => run(MODEL_SCRIPT);
