/**
 * `node database/dist/cli.js migrate`: applies pending migrations with an administrative
 * DATABASE_URL and, when OPSC_ORCHESTRATOR_DB_PASSWORD / OPSC_EXECUTOR_DB_PASSWORD are set, lets
 * the two service roles log in with them. The production stack runs this once before the services.
 */
import pg from 'pg';
import { migrate } from './migrate.js';
import { provisionServiceLogins, ServiceRole } from './roles.js';

const main = async () => {
  const [command] = process.argv.slice(2);
  if (command !== 'migrate') throw new Error('usage: cli.js migrate');
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is required (an administrative connection)');
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    const { applied } = await migrate(pool);
    process.stdout.write(`migrations applied: ${applied.length ? applied.join(', ') : 'none pending'}\n`);
    const orchestrator = process.env.OPSC_ORCHESTRATOR_DB_PASSWORD;
    const executor = process.env.OPSC_EXECUTOR_DB_PASSWORD;
    if (orchestrator && executor) {
      await provisionServiceLogins(pool, {
        [ServiceRole.orchestrator]: orchestrator,
        [ServiceRole.executor]: executor,
      });
      process.stdout.write('service roles can log in\n');
    }
  } finally {
    await pool.end();
  }
};

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
