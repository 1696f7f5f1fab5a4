import type { Request, RequestHandler } from 'express';
import { ErrorType } from '@opsc/contracts';
import { SESSION_COOKIE } from './auth.js';
import { ApiFailure } from './errors.js';

const MUTATIONS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const SCRIPTS = 'scripts and other programs use an API token ("Authorization: Bearer <token>")';

/** `scheme://host[:port]` in the form browsers send, or undefined for anything else (`null`, garbage). */
export const normalOrigin = (value: string): string | undefined => {
  try {
    const url = new URL(value);
    return url.origin === 'null' ? undefined : url.origin;
  } catch {
    return undefined;
  }
};

const hasSessionCookie = (req: Request): boolean =>
  (req.get('cookie') ?? '').split(';').some((part) => part.trim().startsWith(`${SESSION_COOKIE}=`));

/**
 * CSRF defence for the session cookie: a mutation that carries the cookie (and no bearer token,
 * which a foreign page cannot attach) must come from the API's own origin or one of `allowed`
 * (the web app's, whose server forwards its browser's Origin). A browser always sends Origin on
 * such requests; when a privacy setting strips it, `Sec-Fetch-Site: same-origin` is accepted
 * instead. Anything else is a 403 before the body is even read. SameSite=Strict stays the first
 * line; this one holds where SameSite does not (a sibling subdomain is "same site").
 */
export const sameOriginMutations = (allowed: readonly string[]): RequestHandler => {
  const origins = new Set(allowed.map((o) => normalOrigin(o)).filter((o): o is string => o !== undefined));
  return (req, _res, next) => {
    if (!MUTATIONS.has(req.method) || req.get('authorization')?.startsWith('Bearer ') || !hasSessionCookie(req))
      return next();
    const origin = req.get('origin');
    if (origin === undefined) {
      if (req.get('sec-fetch-site') === 'same-origin') return next();
      throw new ApiFailure(
        ErrorType.Forbidden,
        `a signed-in browser request that changes something must carry an Origin header, and this one has none; ${SCRIPTS}`,
      );
    }
    const own = normalOrigin(`${req.protocol}://${req.get('host') ?? ''}`);
    const normal = normalOrigin(origin);
    if (normal !== undefined && (normal === own || origins.has(normal))) return next();
    throw new ApiFailure(
      ErrorType.Forbidden,
      `this request comes from ${JSON.stringify(origin.slice(0, 200))}, which is not the web app's origin: a signed-in browser may change things only from the web app; ${SCRIPTS}`,
    );
  };
};
