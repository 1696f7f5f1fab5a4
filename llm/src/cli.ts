#!/usr/bin/env node
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalLlm } from './local-server.js';

/**
 * `npm run llm`: llama.cpp's server with the local planner model on loopback, in the foreground, until
 * Ctrl-C. Builds the server and fetches the model first when they are not cached. The API key is written
 * to a file only its owner reads (never printed): point the orchestrator at the server with the
 * settings it prints, or let `OPSC_LLM=local npm run up` do all of it.
 */
const dataDir = process.env.OPSC_DATA_DIR
  ? path.resolve(process.env.OPSC_DATA_DIR)
  : fileURLToPath(new URL('../../.data/', import.meta.url));
const say = (msg: string) => process.stdout.write(`[llm] ${msg}\n`);

const main = async () => {
  const port = Number(process.env.OPSC_LLM_PORT ?? 8091);
  const host = process.env.OPSC_LLM_HOST ?? '127.0.0.1';
  const logFile = path.join(dataDir, 'logs', 'llm.log');
  say('starting llama-server (a first run builds it, about 12 minutes on 2 cores, and fetches the model, 1.1 GB)');
  const llm = await startLocalLlm({ host, port, logFile });
  const keyFile = path.join(dataDir, 'llm', 'api-key');
  mkdirSync(path.dirname(keyFile), { recursive: true, mode: 0o700 });
  writeFileSync(keyFile, `${llm.apiKey}\n`, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  say(`ready in ${llm.loadSeconds.toFixed(1)} s (pid ${llm.pid}); log: ${logFile}`);
  say(`  OPENAI_BASE_URL=${llm.baseUrl}`);
  say(`  OPENAI_MODEL=${llm.model}`);
  say(`  OPENAI_API_KEY=$(cat ${keyFile})`);
  say('  PLANNER_LLM_MODE=json-schema PLANNER_TIMEOUT_SECONDS=120');
  say('Ctrl-C stops it.');
  const stop = () => void llm.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
};

main().catch((err: unknown) => {
  process.stderr.write(`[llm] failed: ${(err as Error).message}\n`);
  process.exit(1);
});
