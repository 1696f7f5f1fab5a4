import { Router } from 'express';
import { ErrorType } from '@opsc/contracts';
import { NewTokenBody, type Sent, type TokenIssued, type TokenList } from '@opsc/contracts/api';
import { recordAudit } from '../audit.js';
import { revokeUserToken } from '../identity/lifecycle.js';
import { issueToken, listTokens } from '../identity/tokens.js';
import { principalOf } from './auth.js';
import type { ApiDeps } from './deps.js';
import { ApiFailure } from './errors.js';
import { parseBody } from './validate.js';

/** The caller's own API tokens: create (shown once), list, revoke. */
export const tokenRouter = (deps: ApiDeps): Router => {
  const router = Router();

  router.get('/', async (_req, res) => {
    res.json({ tokens: await listTokens(deps.pool, principalOf(res).userId) } satisfies Sent<TokenList>);
  });

  router.post('/', async (req, res) => {
    const principal = principalOf(res);
    const { name, expiresInDays = deps.identity.tokenDefaultDays } = parseBody(NewTokenBody, req);
    const issued = await issueToken(
      deps.pool,
      principal.userId,
      name,
      new Date(Date.now() + expiresInDays * 86_400_000),
    );
    await recordAudit(deps.pool, {
      tenantId: principal.tenantId,
      actor: principal.username,
      action: 'token.create',
      objectType: 'api_token',
      objectId: issued.id,
      sourceIp: req.ip,
      details: { name, expiresAt: issued.expiresAt.toISOString() },
    });
    res.status(201).json({ ...issued, note: 'shown once; store it now' } satisfies Sent<TokenIssued>);
  });

  router.delete('/:id', async (req, res) => {
    const principal = principalOf(res);
    const found = await revokeUserToken(deps.pool, principal.tenantId, principal.username, req.params.id, {
      name: principal.username,
      ...(req.ip && { sourceIp: req.ip }),
    });
    if (!found) throw new ApiFailure(ErrorType.NotFound, 'no such token of yours');
    res.status(204).end();
  });

  return router;
};
