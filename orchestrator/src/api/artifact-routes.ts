import { Router, type Request } from 'express';
import { z } from 'zod';
import { ErrorType } from '@opsc/contracts';
import { ArtifactUploadQuery, type ArtifactAnswer, type ArtifactList, type Sent } from '@opsc/contracts/api';
import { recordAudit } from '../audit.js';
import {
  ArtifactQuotaExceeded,
  ArtifactTooLarge,
  artifactContent,
  deleteArtifact,
  getArtifact,
  jobsCopying,
  listArtifacts,
  storeArtifact,
  tenantArtifactBytes,
} from '../artifacts/artifact-store.js';
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

/** The request body as it arrives: never held whole. */
async function* bodyOf(req: Request): AsyncGenerator<Buffer> {
  for await (const chunk of req) yield chunk as Buffer;
}

/** The tenant's artifacts: upload (streamed into PostgreSQL), list, download, delete. */
export const artifactsRouter = (deps: ApiDeps): Router => {
  const router = Router();
  const maxBytes = deps.artifactMaxBytes;
  const tenantMaxBytes = deps.artifactTenantMaxBytes;

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
    let stored;
    try {
      stored = await storeArtifact(
        deps.pool,
        { tenantId: principal.tenantId, name, uploadedBy: principal.username, maxBytes, tenantMaxBytes },
        bodyOf(req),
      );
    } catch (err) {
      if (err instanceof ArtifactQuotaExceeded) throw overQuota(err);
      if (!(err instanceof ArtifactTooLarge)) throw err;
      res.set('connection', 'close');
      throw tooLarge(maxBytes);
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
