import type { ApiError, FieldIssue } from '@opsc/contracts/api';

/** What the API answered: the body on success, else its error (type, message, the fields at fault). */
export type ApiResult<T> =
  { ok: true; status: number; data: T } | { ok: false; status: number; error: ApiError['error'] };

/** Calls the orchestrator API through the web server's same-origin /api proxy, with the session cookie. */
export const api = async <T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<ApiResult<T>> => {
  let res: Response;
  try {
    res = await fetch(`/api${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
      ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
      cache: 'no-store',
      credentials: 'same-origin',
    });
  } catch {
    return {
      ok: false,
      status: 0,
      error: { type: 'Unavailable', message: 'the server cannot be reached; check your connection' },
    };
  }
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (res.ok) return { ok: true, status: res.status, data: body as T };
  const error = (body as ApiError | null)?.error ?? {
    type: 'Internal' as const,
    message: `the server answered ${res.status}`,
  };
  if (res.status === 401 && typeof window !== 'undefined' && !window.location.pathname.startsWith('/login')) {
    window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}`);
  }
  return { ok: false, status: res.status, error };
};

/** The issues of an answer by field path, with the API's `plan.` / `draft.` prefix taken off. */
export const issuesByField = (issues: FieldIssue[] | undefined): Map<string, string> => {
  const map = new Map<string, string>();
  for (const issue of issues ?? []) {
    const key = issue.path.replace(/^(plan|draft)\./, '');
    map.set(key, map.has(key) ? `${map.get(key)}; ${issue.message}` : issue.message);
  }
  return map;
};
