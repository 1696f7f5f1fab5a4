import { Router } from 'express';
import { z } from 'zod';
import { ErrorType, type ApiError } from '@opsc/contracts';
import { ArtifactUploadQuery, type ArtifactAnswer, type ArtifactList, type Sent } from '@opsc/contracts/api';
import { recordAudit } from '../audit.js';
import {
  ArtifactQuotaExceeded,
  artifactContent,
  deleteArtifact,
  getArtifact,
  jobsCopying,
  listArtifacts,
  storeArtifact,
  tenantArtifactBytes,
} from '../artifacts/artifact-store.js';
import { ArtifactTooLarge, UploadAborted, UploadStalled, withSpooledUpload } from '../artifacts/spool-upload.js';
import { principalOf, requireRole } from './auth.js';
import type { ApiDeps } from './deps.js';
import { ApiFailure } from './errors.js';
import { parseQuery } from './validate.js';

const ArtifactId = z.uuid();

const tooLarge = (maxBytes: number): ApiFailure =>
  new ApiFailure(
    ErrorType.TooLarge,
    `the artifact is larger than the limit of ${maxBytes} bytes (ARTIFACT_MAX_BYTES)`,
    [{ path: 'body', message: `must be at most ${maxBytes} bytes` }],
  );

const overQuota = (err: ArtifactQuotaExceeded): ApiFailure =>
  new ApiFailure(ErrorType.TooLarge, err.message, [
    {
      path: 'body',
      message: `must fit the tenant's quota: ${err.usedBytes} of ${err.quotaBytes} bytes are in use (ARTIFACT_TENANT_MAX_BYTES)`,
    },
  ]);

/** The tenant's artifacts: upload (spooled, then stored in PostgreSQL), list, download, delete. */
export const artifactsRouter = (deps: ApiDeps): Router => {
  const router = Router();
  const maxBytes = deps.artifactMaxBytes;
  const tenantMaxBytes = deps.artifactTenantMaxBytes;
  const { perUser, idleSeconds } = deps.artifactUploads ?? { perUser: 2, idleSeconds: 30 };
  /** Uploads in flight per user, in this process: a few slow senders cannot fill the disk or the API. */
  const inFlight = new Map<string, number>();

  const found = async (tenantId: string, id: string) => {
    const artifact = ArtifactId.safeParse(id).success ? await getArtifact(deps.pool, tenantId, id) : null;
    if (!artifact) throw new ApiFailure(ErrorType.NotFound, 'no such artifact');
    return artifact;
  };

  router.get('/', async (_req, res) => {
    const artifacts = await listArtifacts(deps.pool, principalOf(res).tenantId);
    res.json({ artifacts, maxBytes } satisfies Sent<ArtifactList>);
  });

  router.post('/', requireRole('operator'), async (req, res) => {
    const principal = principalOf(res);
    const { name } = parseQuery(ArtifactUploadQuery, req);
    const declared = Number(req.headers['content-length'] ?? Number.NaN);
    // Refused before a byte is read; the connection closes, so the rest is not waited for.
    if (declared > maxBytes) {
      res.set('connection', 'close');
      throw tooLarge(maxBytes);
    }
    // A declared size past what the tenant has left: refused before a byte is read as well.
    const used = Number.isFinite(declared) ? await tenantArtifactBytes(deps.pool, principal.tenantId) : 0;
    if (used + declared > tenantMaxBytes) {
      res.set('connection', 'close');
      throw overQuota(new ArtifactQuotaExceeded(tenantMaxBytes, used, declared));
    }
    const user = `${principal.tenantId}/${principal.userId}`;
    const busy = inFlight.get(user) ?? 0;
    if (busy >= perUser) {
      res.set({ connection: 'close', 'retry-after': '5' });
      throw new ApiFailure(
        ErrorType.RateLimited,
        `you have ${perUser} uploads in progress (ARTIFACT_UPLOADS_PER_USER); wait for one to finish`,
      );
    }
    inFlight.set(user, busy + 1);
    let stored;
    try {
      stored = await withSpooledUpload(req, { maxBytes, idleSeconds }, (spooled) =>
        storeArtifact(
          deps.pool,
          { tenantId: principal.tenantId, name, uploadedBy: principal.username, tenantMaxBytes },
          spooled,
        ),
      );
    } catch (err) {
      if (err instanceof UploadAborted) return;
      if (err instanceof ArtifactQuotaExceeded) throw overQuota(err);
      if (!(err instanceof ArtifactTooLarge) && !(err instanceof UploadStalled)) throw err;
      res.set('connection', 'close');
      if (err instanceof ArtifactTooLarge) throw tooLarge(maxBytes);
      // 408 has no error type of its own: the body says Timeout, the status what HTTP calls it.
      res.status(408).json({ error: { type: ErrorType.Timeout, message: err.message } } satisfies ApiError);
      return;
    } finally {
      const left = (inFlight.get(user) ?? 1) - 1;
      if (left > 0) inFlight.set(user, left);
      else inFlight.delete(user);
    }
    const { artifact, created } = stored;
    if (created)
      await recordAudit(deps.pool, {
        tenantId: principal.tenantId,
        actor: principal.username,
        action: 'artifact.upload',
        objectType: 'artifact',
        objectId: artifact.id,
        sourceIp: req.ip,
        details: { name: artifact.name, sha256: artifact.sha256, sizeBytes: artifact.sizeBytes },
      });
    res.status(created ? 201 : 200).json({ artifact } satisfies Sent<ArtifactAnswer>);
  });

  router.get('/:id', async (req, res) => {
    res.json({ artifact: await found(principalOf(res).tenantId, req.params.id) } satisfies Sent<ArtifactAnswer>);
  });

  router.get('/:id/content', async (req, res) => {
    const artifact = await found(principalOf(res).tenantId, req.params.id);
    const file = artifact.name.split('/').pop() ?? 'artifact';
    res.set({
      'content-type': 'application/octet-stream',
      'content-length': String(artifact.sizeBytes),
      // The name's characters are letters, digits, space and . _ + - only: safe inside the quotes.
      'content-disposition': `attachment; filename="${file}"`,
      'x-content-type-options': 'nosniff',
      'x-artifact-sha256': artifact.sha256,
    });
    for await (const chunk of artifactContent(deps.pool, artifact.id)) {
      if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
      if (res.destroyed) return;
    }
    res.end();
  });

  router.delete('/:id', requireRole('admin'), async (req, res) => {
    const principal = principalOf(res);
    const artifact = await found(principal.tenantId, String(req.params.id));
    const jobs = await jobsCopying(deps.pool, principal.tenantId, artifact);
    if (jobs.length)
      throw new ApiFailure(
        ErrorType.Conflict,
        `artifact ${artifact.name} (sha256 ${artifact.sha256.slice(0, 12)}…) is copied by unfinished jobs: ${jobs.join(', ')}`,
      );
    if (!(await deleteArtifact(deps.pool, principal.tenantId, artifact.id)))
      throw new ApiFailure(ErrorType.NotFound, 'no such artifact');
    await recordAudit(deps.pool, {
      tenantId: principal.tenantId,
      actor: principal.username,
      action: 'artifact.delete',
      objectType: 'artifact',
      objectId: artifact.id,
      sourceIp: req.ip,
      details: { name: artifact.name, sha256: artifact.sha256 },
    });
    res.status(204).end();
  });

  return router;
};
