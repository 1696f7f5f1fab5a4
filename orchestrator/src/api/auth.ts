import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ErrorType } from '@opsc/contracts';
import { addLogContext } from '@opsc/telemetry';
import { atLeast, type Principal, type Role } from '../identity/roles.js';
import { principalForSession, principalForToken } from '../identity/users.js';
import type { ApiDeps } from './deps.js';
import type { Caller } from '../jobs/deps.js';
import { ApiFailure } from './errors.js';

export const SESSION_COOKIE = 'opsc_session';

/** A cookie's value; one that is not percent-encoded UTF-8 counts as absent (a 401, not a 500). */
export const readCookie = (req: Request, name: string): string | undefined => {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key !== name) continue;
    try {
      return decodeURIComponent(rest.join('='));
    } catch {
      return undefined;
    }
  }
  return undefined;
};

/** The caller, set by `authenticate`; routes behind it may rely on it. */
export const principalOf = (res: Response): Principal => {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new ApiFailure(ErrorType.AuthFailed, 'not signed in');
  return principal;
};

/** The caller as the services see them: who (as authenticated) and from where. */
export const callerOf = (req: Request, res: Response): Caller => ({ ...principalOf(res), sourceIp: req.ip });

/** Bearer API token or session cookie; anything else is 401. */
export const authenticate =
  (deps: ApiDeps): RequestHandler =>
  async (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization');
    const sessionId = readCookie(req, SESSION_COOKIE);
    const principal = header?.startsWith('Bearer ')
      ? await principalForToken(deps.pool, header.slice('Bearer '.length).trim())
      : sessionId
        ? await principalForSession(deps.pool, sessionId)
        : undefined;
    if (!principal)
      throw new ApiFailure(
        ErrorType.AuthFailed,
        'sign in, or send a valid API token as "Authorization: Bearer <token>"',
      );
    res.locals.principal = principal;
    addLogContext({ tenantId: principal.tenantId });
    next();
  };

/** 403 unless the caller's role includes `minimum`. */
export const requireRole =
  (minimum: Role): RequestHandler =>
  (_req, res, next) => {
    const principal = principalOf(res);
    if (!atLeast(principal.role, minimum)) {
      throw new ApiFailure(ErrorType.Forbidden, `this needs the ${minimum} role; you are ${principal.role}`);
    }
    next();
  };
