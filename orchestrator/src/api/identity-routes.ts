import { Router, type Response } from 'express';
import { ErrorType } from '@opsc/contracts';
import { LoginBody, TenantSettings, type LoginAnswer, type MeAnswer, type Sent } from '@opsc/contracts/api';
import { recordAudit } from '../audit.js';
import { createSignIn, type Refusal } from '../identity/sign-in.js';
import { createSession, endSession } from '../identity/users.js';
import { authenticate, principalOf, readCookie, requireRole, SESSION_COOKIE } from './auth.js';
import type { ApiDeps } from './deps.js';
import { ApiFailure } from './errors.js';
import { saveTenantSettings, tenantSettings } from '../jobs/job-store.js';
import { tokenRouter } from './token-routes.js';
import { userRouter } from './user-routes.js';
import { parseBody } from './validate.js';

const SESSION_HOURS = 12;

const REFUSALS: Record<Refusal, (seconds: number) => string> = {
  source: (s) => `too many failed sign-ins from your address; try again in ${s} s`,
  busy: () => 'too many sign-ins at once; try again in a second',
  locked: (s) => `this account is locked after repeated failed sign-ins; try again in ${s} s`,
};

const refuse = (res: Response, refused: Refusal, seconds: number): never => {
  res.set('Retry-After', String(seconds));
  throw new ApiFailure(ErrorType.RateLimited, REFUSALS[refused](seconds));
};

/** Sign-in, sign-out, who-am-I, API tokens, the tenant's settings and (for admins) users. */
export const identityRouter = (deps: ApiDeps): Router => {
  const router = Router();
  const signIn = createSignIn(deps.pool, deps.identity.signIn);

  router.post('/auth/login', async (req, res) => {
    const { tenant, username, password } = parseBody(LoginBody, req);
    const outcome = await signIn({ tenant, username, password, sourceIp: req.ip });
    if (!outcome.ok && outcome.refused) return refuse(res, outcome.refused, outcome.retryAfterSeconds);
    // One answer for every failure, so that it tells no one which of the three was wrong.
    if (!outcome.ok) throw new ApiFailure(ErrorType.AuthFailed, 'wrong tenant, username or password');
    const user = outcome.principal;
    const sessionId = await createSession(deps.pool, user.userId, SESSION_HOURS, req.ip);
    await recordAudit(deps.pool, {
      tenantId: user.tenantId,
      actor: user.username,
      action: 'auth.login',
      sourceIp: req.ip,
    });
    res.cookie(SESSION_COOKIE, sessionId, {
      httpOnly: true,
      secure: true,
      sameSite: 'strict',
      path: '/',
      maxAge: SESSION_HOURS * 3600_000,
    });
    res.json({
      user: { username: user.username, role: user.role, tenantId: user.tenantId },
    } satisfies Sent<LoginAnswer>);
  });

  router.post('/auth/logout', async (req, res) => {
    const sessionId = readCookie(req, SESSION_COOKIE);
    if (sessionId) await endSession(deps.pool, sessionId);
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.status(204).end();
  });

  router.use(authenticate(deps));

  router.get('/auth/me', async (_req, res) => {
    const { username, role, tenantId, via } = principalOf(res);
    // The tenant's name, for people; the id stays the key everywhere else.
    const { rows } = await deps.pool.query<{ name: string }>('SELECT name FROM tenants WHERE id = $1', [tenantId]);
    res.json({ user: { username, role, tenantId, tenant: rows[0]?.name ?? tenantId }, via } satisfies Sent<MeAnswer>);
  });

  router.use('/tokens', tokenRouter(deps));
  router.use('/users', requireRole('admin'), userRouter(deps));

  /** The tenant's approval rules: four-eyes, and how long an approval may wait before the job is rejected. */
  router.get('/tenant/settings', async (_req, res) => {
    res.json((await tenantSettings(deps.pool, principalOf(res).tenantId)) satisfies Sent<TenantSettings>);
  });

  router.put('/tenant/settings', requireRole('admin'), async (req, res) => {
    const principal = principalOf(res);
    const settings = parseBody(TenantSettings, req);
    await saveTenantSettings(deps.pool, principal.tenantId, settings);
    await recordAudit(deps.pool, {
      tenantId: principal.tenantId,
      actor: principal.username,
      action: 'tenant.settings',
      objectType: 'tenant',
      objectId: principal.tenantId,
      sourceIp: req.ip,
      details: { ...settings },
    });
    res.json(settings satisfies Sent<TenantSettings>);
  });

  return router;
};
