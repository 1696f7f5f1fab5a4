export {
  embeddedPostgresUrl,
  startEmbeddedPostgres,
  type EmbeddedPostgresOptions,
  type RunningPostgres,
} from './embedded.js';
export {
  migrate,
  pendingMigrations,
  loadMigrations,
  MigrationError,
  MIGRATIONS_DIR,
  type Migration,
} from './migrate.js';
export { ServiceRole, provisionServiceLogins, urlForRole } from './roles.js';
