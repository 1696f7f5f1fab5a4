import { Router, type Response } from 'express';
import { ErrorType } from '@opsc/contracts';
import {
  NewUserBody,
  PasswordResetBody,
  UserChangeBody,
  type PasswordResetAnswer,
  type Sent,
  type TokenList,
  type UserAnswer,
  type UserCreated,
  type UserList,
} from '@opsc/contracts/api';
import { recordAudit } from '../audit.js';
import {
  changeUser,
  deleteUser,
  IdentityError,
  listUsers,
  revokeUserToken,
  userTokens,
  type Actor,
} from '../identity/lifecycle.js';
import { createUser } from '../identity/users.js';
import { generatePassword, resetPassword } from '../identity/password-reset.js';
import { principalOf } from './auth.js';
import type { ApiDeps } from './deps.js';
import { ApiFailure } from './errors.js';
import { parseBody } from './validate.js';

/** The lifecycle's refusals as API answers: another tenant's user is as missing as one that never was. */
const answer = async <T>(work: () => Promise<T>): Promise<T> => {
  try {
    return await work();
  } catch (err) {
    if (err instanceof IdentityError)
      throw new ApiFailure(err.kind === 'not-found' ? ErrorType.NotFound : ErrorType.Conflict, err.message);
    throw err;
  }
};

const actorOf = (res: Response, sourceIp: string | undefined): Actor => ({
  name: principalOf(res).username,
  ...(sourceIp && { sourceIp }),
});

/** The tenant's users and their tokens, for its admins (the router is mounted behind `requireRole('admin')`). */
export const userRouter = (deps: ApiDeps): Router => {
  const router = Router();

  router.get('/', async (_req, res) => {
    res.json({ users: await listUsers(deps.pool, principalOf(res).tenantId) } satisfies Sent<UserList>);
  });

  router.post('/', async (req, res) => {
    const principal = principalOf(res);
    const user = parseBody(NewUserBody, req);
    // Names are unique within a tenant only: another tenant's users are none of this admin's business.
    const taken = await deps.pool.query('SELECT 1 FROM users WHERE tenant_id = $1 AND username = $2', [
      principal.tenantId,
      user.username,
    ]);
    if (taken.rowCount)
      throw new ApiFailure(ErrorType.Conflict, `username ${user.username} is taken`, [
        { path: 'username', message: 'is taken' },
      ]);
    const { generatePassword: generate, ...fields } = user;
    const generated = generate ? generatePassword() : undefined;
    await createUser(deps.pool, {
      ...fields,
      ...(generated && { password: generated }),
      tenantId: principal.tenantId,
    });
    await recordAudit(deps.pool, {
      tenantId: principal.tenantId,
      actor: principal.username,
      action: 'user.create',
      objectType: 'user',
      objectId: user.username,
      sourceIp: req.ip,
      details: { role: user.role, password: generated ? 'generated' : user.password ? 'given' : 'none' },
    });
    if (generated) res.set('cache-control', 'no-store');
    res.status(201).json({
      user: { username: user.username, role: user.role },
      ...(generated && { generatedPassword: generated }),
    } satisfies Sent<UserCreated>);
  });

  router.patch('/:username', async (req, res) => {
    const change = parseBody(UserChangeBody, req);
    const user = await answer(() =>
      changeUser(deps.pool, principalOf(res).tenantId, req.params.username, change, actorOf(res, req.ip)),
    );
    res.json({ user } satisfies Sent<UserAnswer>);
  });

  router.delete('/:username', async (req, res) => {
    await answer(() => deleteUser(deps.pool, principalOf(res).tenantId, req.params.username, actorOf(res, req.ip)));
    res.status(204).end();
  });

  router.post('/:username/password', async (req, res) => {
    const body = parseBody(PasswordResetBody, req);
    const generated = body.password === undefined ? generatePassword() : undefined;
    const { sessionsEnded } = await answer(() =>
      resetPassword(deps.pool, principalOf(res).tenantId, req.params.username, body.password ?? generated ?? '', {
        ...actorOf(res, req.ip),
        generated: generated !== undefined,
      }),
    );
    res.set('cache-control', 'no-store');
    res.json({
      user: { username: req.params.username },
      sessionsEnded,
      ...(generated && { generatedPassword: generated }),
    } satisfies Sent<PasswordResetAnswer>);
  });

  router.get('/:username/tokens', async (req, res) => {
    res.json({
      tokens: await answer(() => userTokens(deps.pool, principalOf(res).tenantId, req.params.username)),
    } satisfies Sent<TokenList>);
  });

  router.delete('/:username/tokens/:id', async (req, res) => {
    const found = await answer(() =>
      revokeUserToken(deps.pool, principalOf(res).tenantId, req.params.username, req.params.id, actorOf(res, req.ip)),
    );
    if (!found) throw new ApiFailure(ErrorType.NotFound, `${req.params.username} has no such token`);
    res.status(204).end();
  });

  return router;
};
