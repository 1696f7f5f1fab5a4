import { execFile } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '@opsc/dev';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs one of the built command-line tools (a path under the repository root) with Node, without
 * blocking the test process: a synchronous spawn stops the event loop, so the HTTP client's idle
 * keep-alive sockets outlive the server's and the next request lands on a closed socket.
 */
export const runCli = (script: string, args: string[], env: Record<string, string | undefined>): Promise<CliResult> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(REPO_ROOT, script), ...args],
      { env, encoding: 'utf8', timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === 'number' ? error.code : error ? null : 0;
        resolve({ status: code, stdout, stderr });
      },
    );
  });

/** The vault's command-line tool as the executor's operators run it: the executor's database role and the stack's key. */
export const vaultCli =
  (stack: { roleUrls: { executor: string }; vaultKeyFile: string }) =>
  (args: string[]): Promise<CliResult> =>
    runCli('executor-worker/dist/vault-cli.js', args, {
      PATH: process.env.PATH,
      DATABASE_URL: stack.roleUrls.executor,
      OPSC_VAULT_KEY_FILE: stack.vaultKeyFile,
    });
