export { CONFIG_REFERENCE_PATH, renderConfigReference } from './render.js';
export { DECLARED_ENV, SYSTEM_ENV, type DeclaredGroup, type DeclaredVariable } from './declared.js';
export { ENV_SCHEMAS, readEnvSchema, type EnvField, type EnvSchemaSource } from './schema-fields.js';
