import { webEnv } from '../../../env';

// Every /api/* request goes to the orchestrator API as it came, so its session cookie stays
// same-origin and its Server-Sent Events stream through unbuffered. A route handler rather than a
// rewrite: rewrites are fixed at build time, and OPSC_API_URL is read at run time.
export const dynamic = 'force-dynamic';

// Origin and Sec-Fetch-Site are the browser's own: the API refuses a cookie-signed-in change that
// does not come from an allowed origin (its CSRF check), so they must reach it as the browser sent them.
// X-Forwarded-For is the browser's address as web/server.js saw it (never one the browser wrote):
// the API limits failed sign-ins per source.
const REQUEST_HEADERS = [
  'accept',
  'content-type',
  'cookie',
  'last-event-id',
  'authorization',
  'user-agent',
  'origin',
  'sec-fetch-site',
  'x-forwarded-for',
  // A trigger delivery's signature (docs/triggers.md): its body goes through byte for byte.
  'x-opsc-timestamp',
  'x-opsc-signature',
];
const RESPONSE_HEADERS = [
  'content-type',
  'content-length',
  'content-disposition',
  'x-content-type-options',
  'x-artifact-sha256',
  'cache-control',
  'x-accel-buffering',
  'retry-after',
];

const proxy = async (req: Request, ctx: { params: Promise<{ path: string[] }> }): Promise<Response> => {
  const { path } = await ctx.params;
  const search = new URL(req.url).search;
  const target = `${webEnv().OPSC_API_URL}/api/${path.map(encodeURIComponent).join('/')}${search}`;
  const headers = new Headers();
  for (const name of REQUEST_HEADERS) {
    const value = req.headers.get(name);
    if (value) headers.set(name, value);
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  let upstream: Response;
  try {
    upstream = await fetch(target, {
      method: req.method,
      headers,
      // Streamed, not buffered: an artifact upload may be hundreds of MiB (the API counts and limits it).
      ...(hasBody && req.body && { body: req.body, duplex: 'half' }),
      redirect: 'manual',
      cache: 'no-store',
      // The browser going away (an SSE tab closed) ends the upstream request too.
      signal: req.signal,
    } as RequestInit);
  } catch {
    return Response.json(
      { error: { type: 'Unavailable', message: 'the orchestrator API cannot be reached' } },
      { status: 502 },
    );
  }
  const out = new Headers();
  for (const name of RESPONSE_HEADERS) {
    const value = upstream.headers.get(name);
    if (value) out.set(name, value);
  }
  for (const cookie of upstream.headers.getSetCookie()) out.append('set-cookie', cookie);
  return new Response(upstream.body, { status: upstream.status, headers: out });
};

export { proxy as GET, proxy as POST, proxy as PUT, proxy as DELETE, proxy as PATCH };
