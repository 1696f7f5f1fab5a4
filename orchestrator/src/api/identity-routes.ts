import { Router } from 'express';
import { z } from 'zod';
import { ErrorType } from '@opsc/contracts';
import { recordAudit } from '../audit.js';
import { ROLES } from '../identity/roles.js';
import { checkPassword, createSession, createUser, endSession, issueApiToken } from '../identity/users.js';
import { authenticate, principalOf, readCookie, requireRole, SESSION_COOKIE } from './auth.js';
import type { ApiDeps } from './deps.js';
import { ApiFailure } from './errors.js';
import { saveTenantSettings, tenantSettings } from './job-store.js';
import { parseBody } from './validate.js';

const SESSION_HOURS = 12;
const Login = z.strictObject({ username: z.string().min(1).max(100), password: z.string().min(1).max(1024) });
const NewToken = z.strictObject({ name: z.string().min(1).max(100), expiresInDays: z.number().int().min(1).max(3650).optional() });
const TenantSettingsBody = z.strictObject({
  fourEyes: z.boolean(),
  approvalTimeoutSeconds: z.number().int().min(5).max(2_592_000),
});

const NewUser = z.strictObject({
  username: z.string().regex(/^[a-z0-9][a-z0-9._@-]{0,99}$/, { message: 'lower-case letters, digits and . _ @ -' }),
  role: z.enum(ROLES),
  displayName: z.string().max(200).optional(),
  password: z.string().min(12, { message: 'must be at least 12 characters' }).max(1024).optional(),
});

/** Sign-in, sign-out, who-am-I, API tokens and (for admins) users. */
export const identityRouter = (deps: ApiDeps): Router => {
  const router = Router();

  router.post('/auth/login', async (req, res) => {
    const { username, password } = parseBody(Login, req);
    const user = await checkPassword(deps.pool, username, password);
    if (!user) {
      await recordAudit(deps.pool, { tenantId: null, actor: username, action: 'auth.login_failed', sourceIp: req.ip });
      throw new ApiFailure(ErrorType.AuthFailed, 'wrong username or password');
    }
    const sessionId = await createSession(deps.pool, user.userId, SESSION_HOURS, req.ip);
    await recordAudit(deps.pool, { tenantId: user.tenantId, actor: user.username, action: 'auth.login', sourceIp: req.ip });
    res.cookie(SESSION_COOKIE, sessionId, { httpOnly: true, secure: true, sameSite: 'strict', path: '/', maxAge: SESSION_HOURS * 3600_000 });
    res.json({ user: { username: user.username, role: user.role, tenantId: user.tenantId } });
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
    res.json({ user: { username, role, tenantId, tenant: rows[0]?.name ?? tenantId }, via });
  });

  router.post('/tokens', async (req, res) => {
    const principal = principalOf(res);
    const { name, expiresInDays } = parseBody(NewToken, req);
    const expiresAt = expiresInDays ? new Date(Date.now() + expiresInDays * 86_400_000) : undefined;
    const token = await issueApiToken(deps.pool, principal.userId, name, expiresAt);
    await recordAudit(deps.pool, { tenantId: principal.tenantId, actor: principal.username, action: 'token.create', objectType: 'api_token', objectId: name, sourceIp: req.ip });
    res.status(201).json({ token, name, expiresAt: expiresAt ?? null, note: 'shown once; store it now' });
  });

  router.get('/users', requireRole('admin'), async (_req, res) => {
    const { rows } = await deps.pool.query(
      `SELECT username, display_name AS "displayName", role, disabled, created_at AS "createdAt" FROM users WHERE tenant_id = $1 ORDER BY username`,
      [principalOf(res).tenantId],
    );
    res.json({ users: rows });
  });

  router.post('/users', requireRole('admin'), async (req, res) => {
    const principal = principalOf(res);
    const user = parseBody(NewUser, req);
    const taken = await deps.pool.query('SELECT 1 FROM users WHERE username = $1', [user.username]);
    if (taken.rowCount) throw new ApiFailure(ErrorType.Conflict, `username ${user.username} is taken`, [{ path: 'username', message: 'is taken' }]);
    await createUser(deps.pool, { ...user, tenantId: principal.tenantId });
    await recordAudit(deps.pool, { tenantId: principal.tenantId, actor: principal.username, action: 'user.create', objectType: 'user', objectId: user.username, sourceIp: req.ip, details: { role: user.role } });
    res.status(201).json({ user: { username: user.username, role: user.role } });
  });

  /** The tenant's approval rules: four-eyes, and how long an approval may wait before the job is rejected. */
  router.get('/tenant/settings', async (_req, res) => {
    res.json(await tenantSettings(deps.pool, principalOf(res).tenantId));
  });

  router.put('/tenant/settings', requireRole('admin'), async (req, res) => {
    const principal = principalOf(res);
    const settings = parseBody(TenantSettingsBody, req);
    await saveTenantSettings(deps.pool, principal.tenantId, settings);
    await recordAudit(deps.pool, { tenantId: principal.tenantId, actor: principal.username, action: 'tenant.settings', objectType: 'tenant', objectId: principal.tenantId, sourceIp: req.ip, details: { ...settings } });
    res.json(settings);
  });

  return router;
};
