import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { Plan } from '../plan.js';
import {
  API_ROUTES,
  ApiError,
  AuditPage,
  ControlAnswer,
  CreateJobFromRequest,
  CredentialList,
  EgressAllowListView,
  Health,
  JobDetail,
  JobList,
  LoginBody,
  NewUserBody,
  OutputLine,
  PlanAnswer,
  ResolveAnswer,
  StepResultPage,
  TokenIssued,
  apiReference,
  openApiDocument,
} from './index.js';

const at = '2026-01-31T12:00:00.000Z';
const plan = Plan.parse({
  name: 'look',
  steps: [
    {
      id: 'v',
      name: 'nginx version',
      targets: { group: 'web' },
      action: { method: 'ssh', operation: { op: 'package', action: 'version', name: 'nginx' } },
    },
  ],
});
const links = {
  self: '/api/jobs/job-1',
  events: '/api/jobs/job-1/events',
  results: '/api/jobs/job-1/results',
  temporalUi: null,
  traceUi: null,
};
const listItem = {
  id: 'job-1',
  name: 'look',
  status: 'completed',
  risk: 'read',
  requestedBy: 'ops',
  targetGroup: 'web',
  targets: 2,
  createdAt: at,
  startedAt: at,
  finishedAt: at,
  durationSeconds: 4.2,
  outcome: {
    status: 'completed',
    targets: { total: 2, completed: 2, failed: 0, rolledBack: 0, rollbackFailed: 0 },
    compensationFailures: 0,
  },
  approval: null,
  origin: { kind: 'manual' },
  mode: 'run',
};
const detail = {
  ...listItem,
  planHash: 'a'.repeat(64),
  request: 'nginx version on web',
  summary: {
    bullets: ['Reads the nginx version'],
    targets: { total: 2, byOs: { linux: 2, windows: 0 } },
    risk: 'read',
    approvalRequired: false,
    approvalReasons: [],
    etaSeconds: 5,
    warnings: [],
  },
  error: null,
  events: [{ key: 'k', action: 'approve', actor: 'boss', at }],
  plan,
  targets: [{ id: 't1', name: 'web-1' }],
  progress: null,
  progressError: 'no worker',
  retry: { retryOf: null, rootJobId: null, retriedAs: [], available: [], unavailable: 'still running', resume: null },
  traceId: null,
  links,
};
const result = {
  stepId: 'v',
  target: { id: 't1', name: 'web-1' },
  status: 'succeeded',
  attempt: 1,
  rerun: 0,
  method: 'ssh',
  exitCode: 0,
  signal: null,
  httpStatus: null,
  stdout: 'nginx 1.24\n',
  stderr: '',
  stdoutTruncated: false,
  stderrTruncated: false,
  stdoutBytes: 11,
  stderrBytes: 0,
  facts: { version: '1.24' },
  error: null,
  startedAt: at,
  finishedAt: at,
};

/** Each kind of answer, as the API sends it. */
const EXAMPLES: [string, z.ZodType, unknown][] = [
  ['job list', JobList, { jobs: [listItem], next: { before: at } }],
  ['job detail', JobDetail, detail],
  ['results page', StepResultPage, { results: [result], next: { after: 'WzEsIndlYi0xIiwidDEiXQ' } }],
  [
    'output line',
    OutputLine,
    { seq: 7, stepId: 'v', target: 'web-1', targetId: 't1', attempt: 1, stream: 'stdout', at, line: 'nginx 1.24' },
  ],
  ['control answer', ControlAnswer, { status: 'running', message: 'approved' }],
  [
    'health',
    Health,
    {
      status: 'ok',
      checks: { temporal: { ok: true, latencyMs: 3 }, postgres: { ok: true, latencyMs: 1 } },
      streams: { open: 0, jobs: 0, lineReads: 0, progressQueries: 0 },
    },
  ],
  ['health while starting', Health, { status: 'starting', waitingFor: 'Temporal', startingSeconds: 2 }],
  [
    'issued token',
    TokenIssued,
    { id: 'u', token: 'opsc_x', name: 'ci', prefix: 'opsc_x', expiresAt: at, note: 'shown once; store it now' },
  ],
  [
    'audit page',
    AuditPage,
    {
      entries: [
        {
          id: '1',
          at,
          actor: 'ops',
          action: 'job.submit',
          objectType: 'job',
          objectId: 'job-1',
          jobId: 'job-1',
          planHash: null,
          sourceIp: '127.0.0.1',
          details: { risk: 'read' },
        },
      ],
      next: null,
    },
  ],
  [
    'error',
    ApiError,
    {
      error: {
        type: 'ValidationFailed',
        message: 'invalid request body',
        issues: [{ path: 'name', message: 'is taken' }],
      },
    },
  ],
  [
    'credentials',
    CredentialList,
    {
      credentials: [
        { name: 'ssh', kind: 'ssh-key', username: 'ops', metadata: {}, fingerprint: 'f', keyId: 'k', updatedAt: at },
      ],
    },
  ],
  [
    'egress allow list',
    EgressAllowListView,
    { allow: [{ destination: '127.0.0.1', note: null, addedBy: 'admin', addedAt: at }] },
  ],
  [
    'resolved targets',
    ResolveAnswer,
    {
      count: 1,
      byOs: { linux: 1, windows: 0 },
      targets: [
        {
          id: 't1',
          name: 'web-1',
          address: '127.0.0.1',
          os: 'linux',
          tags: [],
          services: [{ protocol: 'ssh', port: 22, credential: 'ssh', credentialId: 'c1' }],
        },
      ],
    },
  ],
  [
    'plan validation',
    PlanAnswer,
    { status: 'ready', draft: null, plan, planHash: 'a'.repeat(64), summary: null, issues: [], missing: [] },
  ],
];

/** The paths of the issues a schema finds in a value. */
const issuePaths = (schema: z.ZodType, value: unknown): string[] => {
  const parsed = schema.safeParse(value);
  return parsed.success ? [] : parsed.error.issues.map((i) => i.path.join('.'));
};

describe('the API contract', () => {
  for (const [kind, schema, example] of EXAMPLES) {
    it(`takes a ${kind} as the API sends it`, () => {
      expect(issuePaths(schema, example)).toEqual([]);
    });
  }

  it('names the field of a wrong answer', () => {
    expect(issuePaths(JobList, { jobs: [{ ...listItem, status: 'done' }], next: null })).toEqual(['jobs.0.status']);
    const { links: _links, ...noLinks } = detail;
    expect(issuePaths(JobDetail, noLinks)).toEqual(['links']);
    expect(
      issuePaths(OutputLine, {
        seq: 7,
        stepId: 'v',
        target: 'web-1',
        targetId: 't1',
        attempt: 1,
        stream: 'stdin',
        at,
        line: '',
      }),
    ).toEqual(['stream']);
    expect(issuePaths(StepResultPage, { results: [{ ...result, stdoutBytes: '11' }], next: null })).toEqual([
      'results.0.stdoutBytes',
    ]);
    expect(issuePaths(JobDetail, { ...detail, createdAt: 'yesterday' })).toEqual(['createdAt']);
  });

  it('keeps the request messages the API has always answered with', () => {
    expect(CreateJobFromRequest.safeParse({ request: '  ' }).error?.issues[0]?.message).toBe('say what to do');
    expect(NewUserBody.safeParse({ username: 'Bob', role: 'viewer' }).error?.issues[0]?.message).toBe(
      'lower-case letters, digits and . _ @ -',
    );
    expect(LoginBody.safeParse({ tenant: 'a\u0000', username: 'u', password: 'p' }).error?.issues[0]?.message).toBe(
      'must not contain control characters',
    );
  });
});

describe('the OpenAPI document', () => {
  const document = openApiDocument();

  it('is OpenAPI 3.1 with an operation for each route of the table', () => {
    expect(document.openapi).toBe('3.1.0');
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(
      API_ROUTES.map((r) => `${r.method} ${r.path.replace(/:([A-Za-z]+)/g, '{$1}')}`).sort(),
    );
  });

  it('refers only to schemas it holds', () => {
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map(
      ([, name]) => name!,
    );
    const missing = [...new Set(refs)].filter((name) => !(name in document.components.schemas));
    expect(refs.length).toBeGreaterThan(100);
    expect(missing).toEqual([]);
  });

  it('says who may call each route and what it answers', () => {
    const approve = document.paths['/api/jobs/{id}/approve']?.post as Record<string, unknown>;
    expect(approve['x-role']).toBe('approver');
    expect(Object.keys(approve.responses as object)).toEqual(['200', '400', '401', '403', '404', '409', '415', '503']);
    const login = document.paths['/api/auth/login']?.post as Record<string, unknown>;
    expect(login.security).toEqual([]);
    expect(apiReference(document)).toContain(
      '### `POST /api/jobs/{id}/approve`\n\nApproves a job waiting for approval, bound to its plan hash.\n\n- **Who:** approver or admin',
    );
  });
});
