/*
 * `@opsc/contracts/api`: every request and answer of the orchestrator's HTTP API as a zod schema
 * with its type, the route table, and the OpenAPI document generated from them. The orchestrator
 * builds its answers against these types and the web app reads them; neither declares its own.
 */
export * from './common.js';
export * from './errors.js';
export * from './jobs.js';
export * from './results.js';
export * from './events.js';
export * from './plans.js';
export * from './templates.js';
export * from './triggers.js';
export * from './schedules.js';
export * from './inventory.js';
export * from './credentials.js';
export * from './notifications.js';
export * from './identity.js';
export * from './platform.js';
export * from './artifacts.js';
export * from './openapi-document.js';
export * from './routes.js';
export * from './openapi.js';
export * from './reference.js';
