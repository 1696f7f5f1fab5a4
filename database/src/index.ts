export { startEmbeddedPostgres, type EmbeddedPostgresOptions, type RunningPostgres } from './embedded.js';
export { migrate, loadMigrations, MigrationError, MIGRATIONS_DIR, type Migration } from './migrate.js';
