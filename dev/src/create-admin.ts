/**
 * `npm run create-admin -- --tenant <name> --username <name> [--password-stdin]` against the
 * embedded stack: runs the orchestrator's CLI with the orchestrator role's URL from `.data/`.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { prepareDatabase } from './prepare-database.js';
import { REPO_ROOT } from './paths.js';

const DATA = path.join(REPO_ROOT, '.data');
const adminUrl = process.env.DATABASE_URL;
const url = adminUrl
  ? (await prepareDatabase(adminUrl, path.join(DATA, 'service-roles.json'))).orchestrator
  : await (async () => {
      const { readFileSync } = await import('node:fs');
      const passwords = JSON.parse(readFileSync(path.join(DATA, 'service-roles.json'), 'utf8')) as Record<string, string>;
      const port = process.env.OPSC_PG_PORT ?? '5433';
      return `postgres://opsc_orchestrator:${encodeURIComponent(passwords.opsc_orchestrator ?? '')}@127.0.0.1:${port}/opsconductor`;
    })();
const result = spawnSync(process.execPath, [path.join(REPO_ROOT, 'orchestrator/dist/cli.js'), 'create-admin', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, DATABASE_URL: url },
});
process.exit(result.status ?? 1);
