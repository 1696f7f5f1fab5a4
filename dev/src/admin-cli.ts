/**
 * `npm run create-admin -- --tenant <name> --username <name> [--password-stdin]` and
 * `npm run users -- <command> --tenant <name> …` against the running stack: runs the orchestrator's
 * CLI (orchestrator/src/cli.ts, which lists the commands) with the orchestrator role's URL.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { embeddedPostgresUrl } from '@opsc/database';
import { DATA_DIR, EMBEDDED_PG_DIR, REPO_ROOT, embeddedPgPort } from './paths.js';
import { prepareDatabase } from './prepare-database.js';

const adminUrl = process.env.DATABASE_URL ?? embeddedPostgresUrl(EMBEDDED_PG_DIR, embeddedPgPort());
const { orchestrator } = await prepareDatabase(adminUrl, path.join(DATA_DIR, 'service-roles.json'));
const result = spawnSync(
  process.execPath,
  [path.join(REPO_ROOT, 'orchestrator/dist/cli.js'), ...process.argv.slice(2)],
  {
    stdio: 'inherit',
    env: { ...process.env, DATABASE_URL: orchestrator },
  },
);
process.exit(result.status ?? 1);
