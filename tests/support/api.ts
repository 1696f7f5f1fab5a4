import { appendFileSync } from 'node:fs';
import { inject } from 'vitest';
import { isFinalJobStatus, type JobProgress } from '@opsc/contracts';
import { JobDetail, StepResultPage } from '@opsc/contracts/api';
/** Small HTTP helpers for tests that talk to the real API. */
export interface JsonResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
}

export interface RequestInit {
  method?: string;
  body?: unknown;
  rawBody?: string;
  /** API token sent as a Bearer header. */
  token?: string;
  headers?: Record<string, string>;
  /** How long to wait for the answer (15 s unless said: a local model's first plan takes longer). */
  timeoutMs?: number;
}

/** Every answer goes to the run's secret scan (see secret-scan.ts). */
export const recordAnswer = (url: string, text: string): void => {
  appendFileSync(inject('apiAnswersFile'), `--- ${url}\n${text}\n`);
};

export const requestJson = async <T = Record<string, unknown>>(
  url: string,
  init: RequestInit = {},
): Promise<JsonResponse<T>> => {
  const hasBody = init.body !== undefined || init.rawBody !== undefined;
  const res = await fetch(url, {
    method: init.method ?? (hasBody ? 'POST' : 'GET'),
    headers: {
      ...(hasBody && { 'content-type': 'application/json' }),
      ...(init.token && { authorization: `Bearer ${init.token}` }),
      ...init.headers,
    },
    ...(hasBody && { body: init.rawBody ?? JSON.stringify(init.body) }),
    signal: AbortSignal.timeout(init.timeoutMs ?? 15_000),
  });
  const text = await res.text();
  recordAnswer(url, text);
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
};

/** A response schema of @opsc/contracts/api, as far as checking an answer needs it. */
interface AnswerSchema {
  safeParse(
    value: unknown,
  ): { success: true } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
}

/**
 * Fails unless `body` is an answer `schema` (from @opsc/contracts/api) takes, naming each field that
 * is not: every job and results page the suite reads is checked against the contract.
 */
export const expectAnswer = <T>(schema: AnswerSchema, body: T, what: string): T => {
  const parsed = schema.safeParse(body);
  if (!parsed.success)
    throw new Error(
      `${what} does not match the API contract: ${parsed.error.issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('; ')}`,
    );
  return body;
};

/** A row of `GET /api/jobs/:id/results`. */
export interface StepResultView {
  stepId: string;
  target: { id: string; name: string };
  facts: Record<string, string> | null;
  status: string | null;
  attempt: number | null;
  exitCode: number | null;
  httpStatus: number | null;
  stdout: string | null;
  stderr: string | null;
  error: { type: string; message: string } | null;
  startedAt: string | null;
  finishedAt: string | null;
}

/** Every result of a job, read page by page from `GET /api/jobs/:id/results` as a client would. */
export const allResults = async (
  apiUrl: string,
  token: string,
  id: string,
  query = '',
  pageSize = 200,
): Promise<StepResultView[]> => {
  const out: StepResultView[] = [];
  let after: string | undefined;
  for (;;) {
    const params = new URLSearchParams(query);
    params.set('limit', String(pageSize));
    if (after) params.set('after', after);
    const { status, body } = await requestJson<{ results: StepResultView[]; next: { after: string } | null }>(
      `${apiUrl}/api/jobs/${id}/results?${params}`,
      { token },
    );
    if (status !== 200) throw new Error(`GET results of ${id}: HTTP ${status} ${JSON.stringify(body)}`);
    out.push(...expectAnswer(StepResultPage, body, `GET /api/jobs/${id}/results`).results);
    if (!body.next) return out;
    after = body.next.after;
  }
};

/** `GET /api/jobs/:id`, and the job's results from their own endpoint. */
export interface JobView {
  id: string;
  status: string;
  planHash: string;
  progress: JobProgress | null;
  approval: { status: string; by: string; at: string; comment: string | null; planHash: string } | null;
  events: { action: string; actor: string; comment?: string }[];
  outcome: { targets: Record<string, number>; compensationFailures: number } | null;
  targets: { id: string; name: string }[];
  results: StepResultView[];
}

/**
 * Polls `GET /api/jobs/:id` until `done` holds, failing with the last answer after `timeoutMs`; then
 * reads all the job's results, in pages of 50 from `GET /api/jobs/:id/results`.
 */
export const waitForJob = async (
  apiUrl: string,
  token: string,
  id: string,
  done: (job: Omit<JobView, 'results'>) => boolean = (job) => isFinalJobStatus(job.status),
  timeoutMs = 60_000,
): Promise<JobView> => {
  const deadline = Date.now() + timeoutMs;
  let last: Omit<JobView, 'results'> | undefined;
  while (Date.now() < deadline) {
    const { status, body } = await requestJson<Omit<JobView, 'results'>>(`${apiUrl}/api/jobs/${id}`, { token });
    if (status === 200) {
      last = expectAnswer(JobDetail, body, `GET /api/jobs/${id}`);
      if (done(body)) return { ...body, results: await allResults(apiUrl, token, id, '', 50) };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`job ${id} did not reach the expected state; last: ${JSON.stringify(last)}`);
};

/** Polls until `probe` returns a value other than undefined. */
export const eventually = async <T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
};

/**
 * Replaces the tenant's egress allow list through the API (an admin's token): http steps reach a
 * loopback test server only once its exact host:port is allowed.
 */
export const allowEgress = async (apiUrl: string, adminToken: string, destinations: string[]): Promise<void> => {
  const res = await requestJson(`${apiUrl}/api/tenant/egress`, {
    method: 'PUT',
    token: adminToken,
    body: { allow: destinations.map((destination) => ({ destination })) },
  });
  if (res.status !== 200) throw new Error(`PUT /api/tenant/egress: HTTP ${res.status} ${JSON.stringify(res.body)}`);
};
