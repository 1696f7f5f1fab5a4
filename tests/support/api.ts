import { isFinalJobStatus, type JobProgress } from '@opsc/contracts';
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
}

export const requestJson = async <T = Record<string, unknown>>(url: string, init: RequestInit = {}): Promise<JsonResponse<T>> => {
  const hasBody = init.body !== undefined || init.rawBody !== undefined;
  const res = await fetch(url, {
    method: init.method ?? (hasBody ? 'POST' : 'GET'),
    headers: {
      ...(hasBody && { 'content-type': 'application/json' }),
      ...(init.token && { authorization: `Bearer ${init.token}` }),
      ...init.headers,
    },
    ...(hasBody && { body: init.rawBody ?? JSON.stringify(init.body) }),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
};

export interface JobView {
  id: string;
  status: string;
  planHash: string;
  progress: JobProgress | null;
  approval: { status: string; by: string; at: string; comment: string | null; planHash: string } | null;
  events: { action: string; actor: string; comment?: string }[];
  outcome: { targets: Record<string, number>; compensationFailures: number } | null;
  targets: { id: string; name: string }[];
  results: {
    stepId: string;
    target: { id: string; name: string };
    facts: Record<string, string> | null;
    status: string | null;
    attempt: number | null;
    exitCode: number | null;
    httpStatus: number | null;
    stdout: string | null;
    error: { type: string; message: string } | null;
  }[];
}

/** Polls `GET /api/jobs/:id` until `done` holds, failing with the last answer after `timeoutMs`. */
export const waitForJob = async (
  apiUrl: string,
  token: string,
  id: string,
  done: (job: JobView) => boolean = (job) => isFinalJobStatus(job.status),
  timeoutMs = 60_000,
): Promise<JobView> => {
  const deadline = Date.now() + timeoutMs;
  let last: JobView | undefined;
  while (Date.now() < deadline) {
    const { status, body } = await requestJson<JobView>(`${apiUrl}/api/jobs/${id}`, { token });
    if (status === 200) {
      last = body;
      if (done(body)) return body;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`job ${id} did not reach the expected state; last: ${JSON.stringify(last)}`);
};

/** Polls until `probe` returns a value other than undefined. */
export const eventually = async <T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000, what = 'condition'): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
};
