import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { FieldIssue, TriggerMapping } from '@opsc/contracts';
import type { CreateTriggerBody, UpdateTriggerBody } from '@opsc/contracts/api';
import { auditChange } from '../audit.js';
import { InvalidInput, Unavailable, uniqueNameOf } from '../errors.js';
import { atLeast, type Role } from '../identity/roles.js';
import type { Caller } from '../jobs/deps.js';
import { inTransaction, templateOf, versionOf } from '../templates/template-store.js';
import { deriveSecret, newBearerCredentials, newSalt, sha256Hex, triggerKeyId } from './trigger-secret.js';
import { triggerOf, type TriggerRow } from './trigger-store.js';

export interface TriggerDeps {
  pool: pg.Pool;
  /** The orchestrator's trigger key (generic triggers' secrets are derived from it); absent: none can be made. */
  triggerKey: Buffer | undefined;
}

const NO_KEY =
  'generic triggers need the orchestrator trigger key (OPSC_TRIGGER_KEY or OPSC_TRIGGER_KEY_FILE); `npm run up` makes one';

/** The owner must be an active operator (or above) of the tenant: their role runs the template. */
const checkOwner = async (db: pg.Pool | pg.PoolClient, tenantId: string, ownerId: string): Promise<void> => {
  const { rows } = await db.query<{ role: Role; disabled: boolean }>(
    'SELECT role, disabled FROM users WHERE id = $1 AND tenant_id = $2',
    [ownerId, tenantId],
  );
  const owner = rows[0];
  if (!owner) throw new InvalidInput('no such owner', [{ path: 'ownerId', message: 'no such user in this tenant' }]);
  if (owner.disabled) throw new InvalidInput('the owner is disabled', [{ path: 'ownerId', message: 'is disabled' }]);
  if (!atLeast(owner.role, 'operator'))
    throw new InvalidInput('the owner cannot run templates', [
      { path: 'ownerId', message: `is a ${owner.role}; a trigger's owner runs templates (operator or above)` },
    ]);
};

/** Every mapped name must be a parameter of the template version the trigger runs (as it is now). */
const checkMapping = async (
  db: pg.Pool | pg.PoolClient,
  templateId: string,
  version: number | null,
  mappings: { field: string; mapping: TriggerMapping | null }[],
): Promise<void> => {
  const v = await versionOf(db, templateId, version ?? undefined).catch(() => {
    throw new InvalidInput('no such template version', [{ path: 'templateVersion', message: 'no such version' }]);
  });
  const names = new Set(v.parameters.map((p) => p.name));
  const issues: FieldIssue[] = mappings.flatMap(({ field, mapping }) =>
    Object.keys(mapping ?? {})
      .filter((name) => !names.has(name))
      .map((name) => ({ path: `${field}.${name}`, message: `is not a parameter of template version ${v.version}` })),
  );
  if (issues.length) throw new InvalidInput('the mapping names parameters the template does not have', issues);
};

/** A new secret for the trigger: the column values to store, and the secret to show once. */
const freshSecret = (deps: TriggerDeps, id: string, kind: TriggerRow['kind']) => {
  if (kind === 'alertmanager') {
    const secret = newBearerCredentials();
    return { secret, salt: null, keyId: null, hash: sha256Hex(secret) };
  }
  if (!deps.triggerKey) throw new Unavailable(NO_KEY);
  const salt = newSalt();
  return { secret: deriveSecret(deps.triggerKey, id, salt), salt, keyId: triggerKeyId(deps.triggerKey), hash: null };
};

const uniqueName = uniqueNameOf('trigger');

const audit = auditChange('trigger');

export const createTrigger = async (
  deps: TriggerDeps,
  caller: Caller,
  body: CreateTriggerBody,
): Promise<{ trigger: TriggerRow; secret: string }> => {
  const ownerId = body.ownerId ?? caller.userId;
  const template = await templateOf(deps.pool, caller.tenantId, body.templateId).catch(() => {
    throw new InvalidInput('no such template', [{ path: 'templateId', message: 'no such template' }]);
  });
  await checkOwner(deps.pool, caller.tenantId, ownerId);
  await checkMapping(deps.pool, template.id, body.templateVersion, [
    { field: 'mapping', mapping: body.mapping },
    { field: 'resolvedMapping', mapping: body.resolvedMapping },
  ]);
  const id = randomUUID();
  const fresh = freshSecret(deps, id, body.kind);
  await inTransaction(deps.pool, async (db) => {
    await db
      .query(
        `INSERT INTO triggers (id, tenant_id, name, description, template_id, template_version, owner_id, kind, mapping,
           resolved_mapping, dedupe_seconds, enabled, secret_salt, key_id, secret_hash, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
        [
          id,
          caller.tenantId,
          body.name,
          body.description,
          template.id,
          body.templateVersion,
          ownerId,
          body.kind,
          JSON.stringify(body.mapping),
          body.resolvedMapping && JSON.stringify(body.resolvedMapping),
          body.dedupeSeconds,
          body.enabled,
          fresh.salt,
          fresh.keyId,
          fresh.hash,
          caller.username,
        ],
      )
      .catch((err: unknown) => uniqueName(err, body.name));
    await audit(db, caller, 'trigger.create', id, {
      name: body.name,
      kind: body.kind,
      templateId: template.id,
      templateVersion: body.templateVersion,
      ownerId,
      mapped: Object.keys(body.mapping),
    });
  });
  return { trigger: await triggerOf(deps.pool, caller.tenantId, id), secret: fresh.secret };
};

export const updateTrigger = async (
  deps: TriggerDeps,
  caller: Caller,
  id: string,
  body: UpdateTriggerBody,
): Promise<TriggerRow> => {
  const t = await triggerOf(deps.pool, caller.tenantId, id);
  if (body.ownerId !== undefined) await checkOwner(deps.pool, caller.tenantId, body.ownerId);
  const version = body.templateVersion !== undefined ? body.templateVersion : t.template_version;
  await checkMapping(deps.pool, t.template_id, version, [
    { field: 'mapping', mapping: body.mapping ?? t.mapping },
    {
      field: 'resolvedMapping',
      mapping: body.resolvedMapping !== undefined ? body.resolvedMapping : t.resolved_mapping,
    },
  ]);
  const changed = Object.keys(body).filter((k) => body[k as keyof UpdateTriggerBody] !== undefined);
  await inTransaction(deps.pool, async (db) => {
    await db
      .query(
        `UPDATE triggers SET name = coalesce($2, name), description = coalesce($3, description),
           template_version = CASE WHEN $4 THEN $5::integer ELSE template_version END, owner_id = coalesce($6, owner_id),
           mapping = coalesce($7, mapping), resolved_mapping = CASE WHEN $8 THEN $9::jsonb ELSE resolved_mapping END,
           dedupe_seconds = coalesce($10, dedupe_seconds), enabled = coalesce($11, enabled), updated_at = now()
         WHERE id = $1`,
        [
          t.id,
          body.name ?? null,
          body.description ?? null,
          body.templateVersion !== undefined,
          body.templateVersion ?? null,
          body.ownerId ?? null,
          body.mapping ? JSON.stringify(body.mapping) : null,
          body.resolvedMapping !== undefined,
          body.resolvedMapping ? JSON.stringify(body.resolvedMapping) : null,
          body.dedupeSeconds ?? null,
          body.enabled ?? null,
        ],
      )
      .catch((err: unknown) => uniqueName(err, body.name ?? t.name));
    await audit(db, caller, 'trigger.update', t.id, { name: body.name ?? t.name, changed });
  });
  return triggerOf(deps.pool, caller.tenantId, t.id);
};

export const deleteTrigger = async (deps: TriggerDeps, caller: Caller, id: string): Promise<void> => {
  await inTransaction(deps.pool, async (db) => {
    const t = await triggerOf(db, caller.tenantId, id);
    await db.query('UPDATE triggers SET deleted_at = now(), enabled = false WHERE id = $1', [t.id]);
    await audit(db, caller, 'trigger.delete', t.id, { name: t.name });
  });
};

/** A new secret; the old one stops working at once. */
export const rotateTriggerSecret = async (
  deps: TriggerDeps,
  caller: Caller,
  id: string,
): Promise<{ trigger: TriggerRow; secret: string }> => {
  const t = await triggerOf(deps.pool, caller.tenantId, id);
  const fresh = freshSecret(deps, t.id, t.kind);
  await inTransaction(deps.pool, async (db) => {
    await db.query(
      `UPDATE triggers SET secret_salt = $2, key_id = $3, secret_hash = $4, secret_rotated_at = now(), updated_at = now()
        WHERE id = $1`,
      [t.id, fresh.salt, fresh.keyId, fresh.hash],
    );
    await audit(db, caller, 'trigger.rotate-secret', t.id, { name: t.name });
  });
  return { trigger: await triggerOf(deps.pool, caller.tenantId, t.id), secret: fresh.secret };
};
