import { randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { CredentialInput, ErrorType, InventoryName, credentialContext } from '@opsc/contracts';
import type { CredentialAnswer, CredentialList, CredentialView, Sent } from '@opsc/contracts/api';
import { publicKeyFromRaw, sealSecret, sealedFingerprint, type VaultPublicKey } from '@opsc/contracts/sealing';
import { recordAudit } from '../audit.js';
import { inTransaction } from '../db.js';
import { principalOf, requireRole } from './auth.js';
import type { ApiDeps } from './deps.js';
import { ApiFailure } from './errors.js';
import { parseBody } from './validate.js';

/** The vault's current public key, as the executor published it. */
export const currentVaultKey = async (deps: ApiDeps): Promise<VaultPublicKey> => {
  const { rows } = await deps.pool.query<{ key_id: string; public_key: string }>(
    'SELECT key_id, public_key FROM vault_keys WHERE retired_at IS NULL',
  );
  const row = rows[0];
  if (!row)
    throw new ApiFailure(
      ErrorType.Unavailable,
      'no vault key is published yet: start an executor with its vault key first',
    );
  return { keyId: row.key_id, publicKey: publicKeyFromRaw(Buffer.from(row.public_key, 'base64')) };
};

const listCredentials = async (deps: ApiDeps, tenantId: string, name?: string): Promise<CredentialView[]> =>
  (
    await deps.pool.query<CredentialView>(
      `SELECT c.name, c.kind, c.username, c.metadata, c.fingerprint, s.key_id AS "keyId", c.updated_at AS "updatedAt"
       FROM credentials c JOIN credential_secrets s ON s.credential_id = c.id
       WHERE c.tenant_id = $1 AND ($2::text IS NULL OR c.name = $2) ORDER BY c.name`,
      [tenantId, name ?? null],
    )
  ).rows;

/**
 * Credentials are write-only: the secret is sealed for the vault's public key the moment it
 * arrives and is never read back, logged or returned. Answers carry metadata and a fingerprint.
 */
export const credentialsRouter = (deps: ApiDeps): Router => {
  const router = Router();

  router.get('/', async (_req, res) => {
    res.json({ credentials: await listCredentials(deps, principalOf(res).tenantId) } satisfies Sent<CredentialList>);
  });

  const save = (mode: 'create' | 'replace') => async (req: Request, res: Response) => {
    const principal = principalOf(res);
    const input = parseBody(CredentialInput, req);
    if (mode === 'replace' && input.name !== req.params.name) {
      throw new ApiFailure(ErrorType.ValidationFailed, 'the body names another credential', [
        { path: 'name', message: `must be "${String(req.params.name)}"` },
      ]);
    }
    const vaultKey = await currentVaultKey(deps);
    const created = await inTransaction(deps.pool, async (db) => {
      const existing = await db.query<{ id: string; kind: string }>(
        'SELECT id, kind FROM credentials WHERE tenant_id = $1 AND name = $2 FOR UPDATE',
        [principal.tenantId, input.name],
      );
      const current = existing.rows[0];
      if (current && mode === 'create')
        throw new ApiFailure(ErrorType.Conflict, `a credential named "${input.name}" exists`, [
          { path: 'name', message: 'is taken' },
        ]);
      const id = current?.id ?? randomUUID();
      const sealed = sealSecret(JSON.stringify(input.secret), vaultKey, credentialContext(principal.tenantId, id));
      const fingerprint = sealedFingerprint(sealed);
      await db.query(
        `INSERT INTO credentials (id, tenant_id, name, kind, username, metadata, fingerprint) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, username = EXCLUDED.username, metadata = EXCLUDED.metadata,
           fingerprint = EXCLUDED.fingerprint, updated_at = now()`,
        [
          id,
          principal.tenantId,
          input.name,
          input.secret.kind,
          input.username ?? null,
          JSON.stringify(input.metadata),
          fingerprint,
        ],
      );
      await db.query('DELETE FROM credential_secrets WHERE credential_id = $1', [id]);
      await db.query('INSERT INTO credential_secrets (credential_id, key_id, sealed) VALUES ($1, $2, $3)', [
        id,
        sealed.keyId,
        JSON.stringify(sealed),
      ]);
      return !current;
    });
    await recordAudit(deps.pool, {
      tenantId: principal.tenantId,
      actor: principal.username,
      action: created ? 'credential.create' : 'credential.replace',
      objectType: 'credential',
      objectId: input.name,
      sourceIp: req.ip,
      details: { kind: input.secret.kind },
    });
    const [credential] = await listCredentials(deps, principal.tenantId, input.name);
    if (!credential) throw new ApiFailure(ErrorType.Conflict, 'the credential was deleted while it was saved');
    res.status(created ? 201 : 200).json({ credential } satisfies Sent<CredentialAnswer>);
  };
  router.post('/', requireRole('admin'), save('create'));
  router.put('/:name', requireRole('admin'), save('replace'));

  router.delete('/:name', requireRole('admin'), async (req, res) => {
    const principal = principalOf(res);
    const name = InventoryName.safeParse(req.params.name).data;
    const inUse = await deps.pool.query(
      `SELECT t.name FROM target_services s JOIN targets t ON t.id = s.target_id JOIN credentials c ON c.id = s.credential_id
       WHERE c.tenant_id = $1 AND c.name = $2 ORDER BY t.name LIMIT 5`,
      [principal.tenantId, name ?? ''],
    );
    if (inUse.rowCount)
      throw new ApiFailure(
        ErrorType.Conflict,
        `"${name}" is used by ${inUse.rows.map((r: { name: string }) => r.name).join(', ')}`,
      );
    const { rowCount } = await deps.pool.query('DELETE FROM credentials WHERE tenant_id = $1 AND name = $2', [
      principal.tenantId,
      name ?? '',
    ]);
    if (!rowCount) throw new ApiFailure(ErrorType.NotFound, `no credential named "${String(req.params.name)}"`);
    await recordAudit(deps.pool, {
      tenantId: principal.tenantId,
      actor: principal.username,
      action: 'credential.delete',
      objectType: 'credential',
      objectId: name ?? '',
      sourceIp: req.ip,
    });
    res.status(204).end();
  });

  return router;
};
