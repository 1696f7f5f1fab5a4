/**
 * Hostile requests for every route of the API, each with the answer it must get: a 4xx naming the
 * field at fault (or the error type, for a body that is not JSON), never a 500. `{job}` and `{hash}`
 * stand for a job of the caller's tenant that waits for approval, and its plan hash.
 */
export interface HostileRequest {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** Sent as JSON (`application/json`). */
  body?: unknown;
  /** Sent as it is, with `headers` (no content type unless they give one). */
  raw?: string | Uint8Array;
  headers?: Record<string, string>;
  status: number;
  /** The path of the issue the answer names. */
  field?: string;
  /** The answer's error type, when no field is at fault. */
  type?: string;
}

const NUL = '\u0000';
const HIGH = '\ud800';
const LOW = '\udc00';
const DEPTH = 20_000;
const deepArray = `${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}`;
const deepObject = `${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}`;
const echo = (name = 'Say hi') => ({ id: 'hi', name, action: { method: 'local-command', command: 'echo', args: ['hi'] } });
const plan = (steps: unknown[], name = 'hostile') => ({ plan: { name, steps } });
const http = (url: string) => plan([{ id: 'get', name: 'Get', action: { method: 'http', url } }]);
const target = (extra: Record<string, unknown>) => ({ name: 'web-01', address: '127.0.0.1', os: 'linux', ...extra });

export const HOSTILE_REQUESTS: HostileRequest[] = [
  // NUL and lone surrogates in JSON values and keys, wherever they would reach PostgreSQL or history.
  { name: 'NUL in a group description', method: 'POST', path: '/api/inventory/groups', body: { name: 'g1', description: `a${NUL}b` }, status: 400, field: 'description' },
  { name: 'lone surrogate in a group description', method: 'POST', path: '/api/inventory/groups', body: { name: 'g1', description: `a${HIGH}b` }, status: 400, field: 'description' },
  { name: 'NUL in a plan name', method: 'POST', path: '/api/jobs', body: plan([echo()], `n${NUL}`), status: 400, field: 'plan.name' },
  { name: 'lone low surrogate in a step name', method: 'POST', path: '/api/jobs', body: plan([echo(`x${LOW}`)]), status: 400, field: 'plan.steps.0.name' },
  { name: 'NUL in a key of a step', method: 'POST', path: '/api/jobs', body: plan([{ ...echo(), rollback: { tool: 'x', name: 'y', action: { [`k${NUL}`]: 1 } } }]), status: 400, field: 'plan.steps.0.rollback.action.k\\u0000' },
  { name: 'NUL in a draft', method: 'POST', path: '/api/jobs', body: { draft: { name: 'd', steps: [{ tool: `run-command${NUL}` }] } }, status: 400, field: 'draft.steps.0.tool' },
  { name: 'NUL in a request in words', method: 'POST', path: '/api/plans', body: { request: `restart nginx on web-01${NUL}` }, status: 400, field: 'request' },
  { name: 'lone surrogate in a plan to validate', method: 'POST', path: '/api/plans', body: { plan: { name: `p${HIGH}`, steps: [] } }, status: 400, field: 'plan.name' },
  { name: 'NUL in a user name at sign-in', method: 'POST', path: '/api/auth/login', body: { tenant: 'acme', username: `root${NUL}`, password: 'x' }, status: 400, field: 'username' },
  { name: 'lone surrogate in a password at sign-in', method: 'POST', path: '/api/auth/login', body: { tenant: 'acme', username: 'root', password: `x${HIGH}` }, status: 400, field: 'password' },
  { name: 'NUL in a token name', method: 'POST', path: '/api/tokens', body: { name: `t${NUL}` }, status: 400, field: 'name' },
  { name: 'NUL in a display name', method: 'POST', path: '/api/users', body: { username: 'bob', role: 'viewer', displayName: `Bob${NUL}` }, status: 400, field: 'displayName' },
  { name: 'NUL in a cancel comment', method: 'POST', path: '/api/jobs/{job}/cancel', body: { comment: `bye${NUL}` }, status: 400, field: 'comment' },
  { name: 'lone surrogate in an approve comment', method: 'POST', path: '/api/jobs/{job}/approve', body: { planHash: '{hash}', comment: `ok${HIGH}` }, status: 400, field: 'comment' },
  { name: 'NUL in a reject comment', method: 'POST', path: '/api/jobs/{job}/reject', body: { comment: NUL }, status: 400, field: 'comment' },
  { name: 'an inventory file whose host pattern expands to 10^8 hosts', method: 'POST', path: '/api/inventory/import', body: { format: 'ini', content: '[web]\nw[0:9999][0:9999]\n' }, status: 400, field: 'content' },
  { name: 'an inventory file 20,000 brackets deep', method: 'POST', path: '/api/inventory/import', body: { format: 'yaml', content: `all: ${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}` }, status: 400, field: 'content' },
  { name: 'NUL in an inventory file', method: 'POST', path: '/api/inventory/import', body: { format: 'ini', content: `[web]\nweb-0${NUL}1` }, status: 400, field: 'content' },
  { name: 'NUL in a tag', method: 'PUT', path: '/api/inventory/targets/web-01', body: target({ tags: [`a${NUL}`] }), status: 400, field: 'tags.0' },
  { name: 'NUL in a credential user name', method: 'POST', path: '/api/credentials', body: { name: 'c1', username: `u${NUL}`, secret: { kind: 'password', password: 'p' } }, status: 400, field: 'username' },
  { name: 'NUL in a credential secret', method: 'PUT', path: '/api/credentials/c1', body: { name: 'c1', secret: { kind: 'password', password: `p${NUL}` } }, status: 400, field: 'secret.password' },
  { name: 'NUL in a resolve selector', method: 'POST', path: '/api/inventory/resolve', body: { targets: ['web-01', `x${NUL}`] }, status: 400, field: 'targets.1' },

  // The query string.
  { name: 'NUL in the job search', method: 'GET', path: '/api/jobs?q=%00', status: 400, field: 'query.q' },
  { name: 'NUL in a job filter', method: 'GET', path: '/api/jobs?requester=a%00b', status: 400, field: 'query.requester' },
  { name: 'NUL in an audit filter', method: 'GET', path: '/api/audit?actor=%00', status: 400, field: 'query.actor' },
  { name: 'NUL in a results filter', method: 'GET', path: '/api/jobs/{job}/results?target=%00', status: 400, field: 'query.target' },
  { name: 'NUL in a query parameter name', method: 'GET', path: '/api/jobs?a%00=1', status: 400, field: 'query.a\\u0000' },
  { name: 'NUL in the event stream resume point', method: 'GET', path: '/api/jobs/{job}/events?lastEventId=%00', status: 400, field: 'query.lastEventId' },
  { name: 'an audit page past bigint', method: 'GET', path: '/api/audit?before=99999999999999999999', status: 400, field: 'query.before' },
  { name: 'an audit date that does not exist', method: 'GET', path: '/api/audit?since=2024-02-30T00:00:00Z', status: 400, field: 'query.since' },
  { name: 'a job list date that does not exist', method: 'GET', path: '/api/jobs?before=2024-02-30T00:00:00Z', status: 400, field: 'query.before' },
  { name: 'an audit date with an impossible offset', method: 'GET', path: '/api/audit?until=2024-01-01T00:00:00%2B99:99', status: 400, field: 'query.until' },

  // Path parameters.
  { name: 'a path that is not percent-encoded UTF-8', method: 'GET', path: '/api/jobs/%E0%A4%A', status: 400, field: 'path' },
  { name: 'NUL in a target name in the path', method: 'PUT', path: '/api/inventory/targets/web%0001', body: target({}), status: 400, field: 'path' },
  { name: 'NUL in a credential name in the path', method: 'DELETE', path: '/api/credentials/c%00', status: 400, field: 'path' },
  { name: 'an encoded lone surrogate in a group name in the path', method: 'DELETE', path: '/api/inventory/groups/%ED%A0%80', status: 400, field: 'path' },

  { name: 'a session cookie that is not percent-encoded UTF-8', method: 'GET', path: '/api/auth/me', headers: { cookie: 'opsc_session=%E0%A4%A' }, status: 401, type: 'AuthFailed' },

  // Bodies that are not JSON in UTF-8.
  { name: 'charset=latin1', method: 'POST', path: '/api/jobs', raw: '{}', headers: { 'content-type': 'application/json; charset=latin1' }, status: 415, type: 'UnsupportedMediaType' },
  { name: 'charset=utf-16', method: 'POST', path: '/api/jobs', raw: '{}', headers: { 'content-type': 'application/json; charset=utf-16' }, status: 415, type: 'UnsupportedMediaType' },
  { name: 'a content type without its charset value', method: 'POST', path: '/api/jobs', raw: '{}', headers: { 'content-type': 'application/json; charset' }, status: 415, type: 'UnsupportedMediaType' },
  { name: 'text/plain', method: 'POST', path: '/api/jobs', raw: '{"plan":{}}', headers: { 'content-type': 'text/plain' }, status: 415, type: 'UnsupportedMediaType' },
  { name: 'a form', method: 'POST', path: '/api/jobs/{job}/cancel', raw: 'comment=bye', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, type: 'UnsupportedMediaType' },
  { name: 'a multipart form', method: 'PUT', path: '/api/tenant/settings', raw: '--x\r\n\r\n--x--', headers: { 'content-type': 'multipart/form-data; boundary=x' }, status: 415, type: 'UnsupportedMediaType' },
  { name: 'a body without a content type', method: 'POST', path: '/api/tokens', raw: new TextEncoder().encode('{"name":"t"}'), status: 415, type: 'UnsupportedMediaType' },
  { name: 'an empty form', method: 'POST', path: '/api/jobs/{job}/cancel', raw: '', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, type: 'UnsupportedMediaType' },
  { name: 'a content encoding the API does not read', method: 'POST', path: '/api/jobs', raw: '{}', headers: { 'content-type': 'application/json', 'content-encoding': 'compress' }, status: 415, type: 'UnsupportedMediaType' },
  { name: 'gzip that is not gzip', method: 'POST', path: '/api/jobs', raw: '{}', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, status: 400, type: 'ValidationFailed' },
  { name: 'JSON that is not JSON', method: 'POST', path: '/api/jobs', raw: '{"plan":', headers: { 'content-type': 'application/json' }, status: 400, type: 'ValidationFailed' },
  { name: 'a body over 1 MB', method: 'POST', path: '/api/plans', body: { request: 'x'.repeat(1_100_000) }, status: 413, type: 'ValidationFailed' },

  // Shapes: depth, size, types.
  { name: 'a draft 20,000 arrays deep', method: 'POST', path: '/api/jobs', raw: `{"draft":${deepArray}}`, headers: { 'content-type': 'application/json' }, status: 400, field: `draft${'.0'.repeat(63)}` },
  { name: 'a rollback action 20,000 objects deep', method: 'POST', path: '/api/jobs', raw: `{"plan":{"name":"d","steps":[{"id":"a","name":"a","action":{"method":"local-command","command":"echo"},"rollback":{"tool":"x","name":"y","action":${deepObject}}}]}}`, headers: { 'content-type': 'application/json' }, status: 400 },
  { name: 'a plan to validate 20,000 objects deep', method: 'POST', path: '/api/plans', raw: `{"plan":${deepObject}}`, headers: { 'content-type': 'application/json' }, status: 400 },
  { name: 'a tool params object 20,000 arrays deep', method: 'POST', path: '/api/jobs', raw: `{"plan":{"name":"d","steps":[{"id":"a","name":"a","action":{"method":"local-command","command":"echo"},"tool":{"name":"x","risk":"read","typicalDurationSeconds":1,"params":{"p":${deepArray}}}}]}}`, headers: { 'content-type': 'application/json' }, status: 400 },
  { name: '200,000 names to resolve', method: 'POST', path: '/api/inventory/resolve', body: { targets: Array.from({ length: 200_000 }, () => 'a') }, status: 400, field: 'targets' },
  { name: 'a group with 100,000 children', method: 'POST', path: '/api/inventory/groups', body: { name: 'g2', children: Array.from({ length: 100_000 }, (_, i) => `c${i}`) }, status: 400, field: 'children' },
  { name: 'an overlong token name', method: 'POST', path: '/api/tokens', body: { name: 'x'.repeat(100_000) }, status: 400, field: 'name' },
  { name: 'a number for a plan name', method: 'POST', path: '/api/jobs', body: { plan: { name: 5, steps: [echo()] } }, status: 400, field: 'plan.name' },
  { name: 'a JSON array for a body', method: 'POST', path: '/api/tokens', body: [], status: 400 },
  { name: 'a JSON string for a body', method: 'POST', path: '/api/tokens', raw: '"name"', headers: { 'content-type': 'application/json' }, status: 400 },
  { name: 'null for a body', method: 'POST', path: '/api/jobs', raw: 'null', headers: { 'content-type': 'application/json' }, status: 400 },
  { name: 'a string for tenant settings', method: 'PUT', path: '/api/tenant/settings', body: { fourEyes: 'yes', approvalTimeoutSeconds: 60 }, status: 400, field: 'fourEyes' },
  { name: 'a repeated query parameter', method: 'GET', path: '/api/jobs?limit=1&limit=2', status: 400, field: 'query.limit' },

  // URLs that are not URLs.
  { name: 'http://[ as a step URL', method: 'POST', path: '/api/jobs', body: http('http://['), status: 400, field: 'plan.steps.0.action.url' },
  { name: 'http://a b/ as a step URL', method: 'POST', path: '/api/jobs', body: http('http://a b/'), status: 400, field: 'plan.steps.0.action.url' },
  { name: 'http://[::g]/ as a step URL', method: 'POST', path: '/api/jobs', body: http('http://[::g]/'), status: 400, field: 'plan.steps.0.action.url' },
  { name: 'http://%zz/ as a step URL', method: 'POST', path: '/api/jobs', body: http('http://%zz/'), status: 400, field: 'plan.steps.0.action.url' },
  { name: 'http://[ in a plan to validate', method: 'POST', path: '/api/plans', body: { plan: http('http://[').plan }, status: 422 },
  { name: 'http://a b/ in a draft', method: 'POST', path: '/api/jobs', body: { draft: { name: 'd', steps: [{ id: 'g', name: 'g', action: { method: 'http', url: 'http://a b/' } }] } }, status: 422 },
  { name: 'http://[ as a service base URL', method: 'POST', path: '/api/inventory/targets', body: target({ name: 'web-02', services: [{ protocol: 'http', baseUrl: 'http://[' }] }), status: 400, field: 'services.0.baseUrl' },
  { name: 'http://a b/ as a service base URL', method: 'POST', path: '/api/inventory/targets', body: target({ name: 'web-02', services: [{ protocol: 'http', baseUrl: 'http://a b/' }] }), status: 400, field: 'services.0.baseUrl' },
  { name: 'an odd URL in a request in words', method: 'POST', path: '/api/plans', body: { request: 'check that http://[ answers and GET http://a b/ on web-01' }, status: 200 },
];
