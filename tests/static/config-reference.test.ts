import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { REPO_ROOT } from '@opsc/dev';
import {
  CONFIG_REFERENCE_PATH,
  DECLARED_ENV,
  ENV_SCHEMAS,
  SYSTEM_ENV,
  readEnvSchema,
  renderConfigReference,
} from '@opsc/dev/config-docs';
import { ExecutorEnv } from '@opsc/executor-worker/env';
import { OrchestratorEnv } from '@opsc/orchestrator/env';
import { envReads, productionFiles } from './env-reads.js';

/** Packages whose code never runs in a deployment: tests, their fixtures and the benchmarks. */
const NOT_PRODUCTION = new Set(['tests', 'testkit', 'bench']);
const workspaces = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { workspaces: string[] })
  .workspaces;

describe('the configuration reference (docs/reference/configuration.md)', () => {
  it('is what `npm run docs:config` writes from the env schemas today', () => {
    const checkedIn = readFileSync(path.join(REPO_ROOT, CONFIG_REFERENCE_PATH), 'utf8');
    const fresh = renderConfigReference(REPO_ROOT);
    expect(
      checkedIn === fresh,
      `${CONFIG_REFERENCE_PATH} is stale: run \`npm run docs:config\` and commit the result`,
    ).toBe(true);
  });

  it.each([
    ['orchestrator', OrchestratorEnv],
    ['executor-worker', ExecutorEnv],
  ] as const)(
    'reads the %s schema as the service parses it: every variable, with its default',
    (service, schema: z.ZodObject) => {
      const source = ENV_SCHEMAS.find((s) => s.service === service)!;
      const fields = readEnvSchema(REPO_ROOT, source);
      expect(fields.map((f) => f.name)).toEqual(Object.keys(schema.shape));
      for (const field of fields) {
        const parsed = (schema.shape[field.name] as z.ZodType).safeParse(undefined);
        if (field.required) {
          expect(parsed.success, `${field.name} is required`).toBe(false);
        } else if (field.defaultText === undefined) {
          expect({ name: field.name, value: parsed.data }).toEqual({ name: field.name, value: undefined });
        } else {
          // A list default prints comma-joined; a transformed one (a list from a string) too.
          const value: unknown = parsed.data;
          const printed = Array.isArray(value) ? value.join(',') : String(value);
          expect({ name: field.name, printed }).toEqual({ name: field.name, printed: field.defaultText });
        }
      }
    },
  );

  it('documents every environment variable that production code reads', () => {
    const documented = new Set<string>([
      ...ENV_SCHEMAS.flatMap((s) => readEnvSchema(REPO_ROOT, s).map((f) => f.name)),
      ...DECLARED_ENV.flatMap((g) => g.variables.map((v) => v.name)),
      ...SYSTEM_ENV,
    ]);
    const reads = workspaces
      .filter((w) => !NOT_PRODUCTION.has(w))
      .flatMap((w) => productionFiles(REPO_ROOT, w).flatMap((f) => envReads(REPO_ROOT, f)));
    // The scan must see the reads it is meant to police; an empty scan would pass anything.
    expect(reads.map((r) => r.name)).toEqual(
      expect.arrayContaining(['OPSC_DATA_DIR', 'TEMPORAL_PORT', 'WEB_TRUSTED_PROXIES', 'OPSC_EXECUTOR_DB_PASSWORD']),
    );
    const missing = reads
      .filter((r) => r.name === undefined || !documented.has(r.name))
      .map((r) => `${r.file}:${r.line} ${r.name ?? '(a computed name)'}`);
    expect(
      missing,
      "declare these in a service's env schema or in dev/src/config-docs/declared.ts, then run `npm run docs:config`",
    ).toEqual([]);
  });
});
