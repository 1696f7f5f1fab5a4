import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ensureLlamaServer, ensureModel } from './binary.js';

/** The model name the local server answers to; the planner sends it as `OPENAI_MODEL`. */
export const LOCAL_MODEL_NAME = 'qwen2.5-coder-1.5b-instruct';

export interface LocalLlmOptions {
  /** Loopback only: 127.0.0.0/8 or ::1. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Sent by every client as its bearer token; random when absent, so no other local user can use it. */
  apiKey?: string;
  /** Server output goes here. */
  logFile: string;
  /** Context window in tokens: the planner's prompt is about 2,000 tokens, a repair doubles it. */
  contextSize?: number;
  threads?: number;
  readyTimeoutMs?: number;
}

export interface RunningLocalLlm {
  /** OpenAI-compatible base URL, e.g. http://127.0.0.1:8091/v1 */
  baseUrl: string;
  apiKey: string;
  model: string;
  pid: number;
  /** Seconds from start until the model was loaded and the server answered /health. */
  loadSeconds: number;
  /** SIGTERM, then SIGKILL after a grace period; resolves when the process is gone. */
  stop(): Promise<void>;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/;

const freePort = (host: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port')),
      );
    });
  });

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => child.once('exit', () => r()));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts llama.cpp's `llama-server` with the local planner model on loopback, with an OpenAI-compatible
 * API guarded by an API key, and waits until the model is loaded (`/health` answers 200). The binary and
 * the model are built or fetched first when they are not cached (minutes, once).
 */
export const startLocalLlm = async (options: LocalLlmOptions): Promise<RunningLocalLlm> => {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK.test(host)) throw new Error(`the local LLM listens on loopback only, not ${host}`);
  const binary = ensureLlamaServer();
  const model = ensureModel();
  const port = options.port || (await freePort(host));
  const apiKey = options.apiKey ?? randomBytes(24).toString('base64url');
  mkdirSync(path.dirname(options.logFile), { recursive: true });
  const log = openSync(options.logFile, 'a');
  const threads = options.threads ?? Math.max(1, os.availableParallelism());
  const started = Date.now();
  const child = spawn(
    binary,
    [
      ['--model', model],
      ['--alias', LOCAL_MODEL_NAME],
      ['--host', host],
      ['--port', String(port)],
      ['--ctx-size', String(options.contextSize ?? 8_192)],
      ['--threads', String(threads)],
      ['--parallel', '1'],
      ['--no-webui'],
      ['--jinja'],
    ].flat(),
    // The key goes by environment, not argv: `ps` shows every user the command line.
    { stdio: ['ignore', log, log], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LLAMA_API_KEY: apiKey } },
  );
  const gone = exited(child);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    }
  };
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const deadline = started + (options.readyTimeoutMs ?? 300_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `llama-server exited (${child.exitCode ?? child.signalCode}) before it was ready; see ${options.logFile}`,
      );
    const ready = await fetch(`${origin}/health`, { signal: AbortSignal.timeout(2_000) })
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `llama-server was not ready within ${Math.round((options.readyTimeoutMs ?? 300_000) / 1000)} s; see ${options.logFile}`,
      );
    }
    await sleep(250);
  }
  return {
    baseUrl: `${origin}/v1`,
    apiKey,
    model: LOCAL_MODEL_NAME,
    pid: child.pid ?? 0,
    loadSeconds: (Date.now() - started) / 1000,
    stop,
  };
};
