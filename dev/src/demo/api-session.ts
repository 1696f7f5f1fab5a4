/**
 * The demo talks to the orchestrator through its HTTP API, as a signed-in admin would: a session
 * from `POST /api/auth/login` (its cookie), and the API's own origin on each change, which is what
 * the API's CSRF check asks of a cookie-signed-in request.
 */
export interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
}

export interface ApiSession {
  username: string;
  request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<ApiAnswer>;
  /** The request, failing with the API's message unless the status is one of `ok`. */
  expect(method: 'POST' | 'PUT' | 'DELETE', path: string, body: unknown, ok: number[]): Promise<ApiAnswer>;
  /** Uploads bytes as `application/octet-stream` (an artifact), failing with the API's message unless 200 or 201. */
  upload(path: string, bytes: Buffer): Promise<ApiAnswer>;
  signOut(): Promise<void>;
}

const send = async (url: string, method: string, headers: Record<string, string>, body?: unknown) => {
  const res = await fetch(url, {
    method,
    headers: { ...headers, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { res, answer: { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> } };
};

/** What the API said went wrong, without echoing what was sent (a request may carry a secret). */
export const apiError = (answer: ApiAnswer): string => {
  const error = answer.body.error as { message?: string; issues?: { path: string; message: string }[] } | undefined;
  const issues = (error?.issues ?? []).map((i) => `${i.path}: ${i.message}`).join('; ');
  return `HTTP ${answer.status}: ${error?.message ?? 'no message'}${issues ? ` (${issues})` : ''}`;
};

/** Signs in; undefined when the API refuses these credentials (401). */
export const signIn = async (
  apiUrl: string,
  tenant: string,
  username: string,
  password: string,
): Promise<ApiSession | undefined> => {
  const origin = new URL(apiUrl).origin;
  const { res, answer } = await send(`${origin}/api/auth/login`, 'POST', {}, { tenant, username, password });
  if (answer.status === 401) return undefined;
  if (answer.status !== 200) throw new Error(`signing in as ${username}: ${apiError(answer)}`);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const headers = { cookie, origin };
  const request: ApiSession['request'] = async (method, path, body) =>
    (await send(`${origin}${path}`, method, headers, body)).answer;
  return {
    username,
    request,
    expect: async (method, path, body, ok) => {
      const answer = await request(method, path, body);
      if (!ok.includes(answer.status)) throw new Error(`${method} ${path}: ${apiError(answer)}`);
      return answer;
    },
    upload: async (path, bytes) => {
      const res = await fetch(`${origin}${path}`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/octet-stream' },
        body: bytes,
        signal: AbortSignal.timeout(60_000),
      });
      const text = await res.text();
      const answer = { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
      if (answer.status !== 200 && answer.status !== 201) throw new Error(`POST ${path}: ${apiError(answer)}`);
      return answer;
    },
    signOut: async () => {
      await request('POST', '/api/auth/logout');
    },
  };
};
