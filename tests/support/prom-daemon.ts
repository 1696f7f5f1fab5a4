import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { freePort } from './free-port.js';

/** A Prometheus-family daemon (Prometheus, Alertmanager) the test started on loopback. */
export interface PromDaemon {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts one of Debian's Prometheus programs on a free loopback port: its config written to a
 * temporary folder (with its data, removed at stop), its output in the run's log folder, ready once
 * `/-/ready` answers; stopped by its PID (SIGTERM, then SIGKILL).
 */
export const startPromDaemon = async (options: {
  bin: string;
  /** The Debian package that installs `bin` (named in the error when it is missing). */
  debianPackage: string;
  /** `prometheus` or `alertmanager`: the log file's and temporary folder's prefix. */
  kind: string;
  label: string;
  configFile: string;
  config: string;
  /** Its arguments, given the folder, the config's path and the listen address. */
  args(dir: string, configPath: string, listen: string): string[];
  readyTimeoutMs: number;
  stopTimeoutMs: number;
}): Promise<PromDaemon> => {
  if (!existsSync(options.bin))
    throw new Error(
      `${options.bin} is missing: run scripts/setup.sh --test (apt-get install ${options.debianPackage})`,
    );
  const dir = mkdtempSync(path.join(os.tmpdir(), `opsc-${options.kind}-`));
  const port = await freePort();
  const configPath = path.join(dir, options.configFile);
  writeFileSync(configPath, `${options.config}\n`, { mode: 0o600 });
  const logFile = path.join(inject('logDir'), `${options.kind}-${options.label}.log`);
  const child = spawn(options.bin, options.args(dir, configPath, `127.0.0.1:${port}`), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = (chunk: Buffer) => appendFileSync(logFile, chunk);
  child.stdout.on('data', log);
  child.stderr.on('data', log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, options.stopTimeoutMs))]);
    if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + options.readyTimeoutMs;
  for (;;) {
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`${options.kind} did not start (see ${logFile})`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, stop };
};
