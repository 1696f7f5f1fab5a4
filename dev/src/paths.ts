import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from this compiled file's place in `dev/dist`. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const ORCHESTRATOR_MAIN = fileURLToPath(new URL('../../orchestrator/dist/main.js', import.meta.url));
export const EXECUTOR_MAIN = fileURLToPath(new URL('../../executor-worker/dist/main.js', import.meta.url));
export const ORCHESTRATOR_CLI = fileURLToPath(new URL('../../orchestrator/dist/cli.js', import.meta.url));
/** The test fleets' CLIs, which the demo runs (testkit/src/fleet-cli.ts, winrm-fleet-cli.ts). */
export const SSH_FLEET_CLI = fileURLToPath(new URL('../../testkit/dist/fleet-cli.js', import.meta.url));
export const WINRM_FLEET_CLI = fileURLToPath(new URL('../../testkit/dist/winrm-fleet-cli.js', import.meta.url));

/** Where `npm run up` keeps its state (OPSC_DATA_DIR, default `.data/`), and the embedded PostgreSQL inside it. */
export const DATA_DIR = process.env.OPSC_DATA_DIR
  ? path.resolve(process.env.OPSC_DATA_DIR)
  : fileURLToPath(new URL('../../.data/', import.meta.url));
export const EMBEDDED_PG_DIR = path.join(DATA_DIR, 'postgres');
export const embeddedPgPort = (): number => Number(process.env.OPSC_PG_PORT ?? 5433);

/** The Next.js app, and the `next` command that serves its production build (`next start`). */
export const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));
export const nextBin = (): string => createRequire(`${WEB_DIR}package.json`).resolve('next/dist/bin/next');
