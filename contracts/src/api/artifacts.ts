import { z } from 'zod';
import { ArtifactName, Sha256Hex } from '../linux.js';
import { Timestamp } from './common.js';

/** `POST /api/artifacts?name=...`: the body is the file itself (`application/octet-stream`). */
export const ArtifactUploadQuery = z.strictObject({ name: ArtifactName });
export type ArtifactUploadQuery = z.infer<typeof ArtifactUploadQuery>;

/** One uploaded version of an artifact: immutable; a new upload under its name is a new version. */
export const ArtifactView = z.object({
  id: z.uuid(),
  name: z.string(),
  sha256: Sha256Hex,
  sizeBytes: z.number().int().min(0),
  uploadedBy: z.string(),
  createdAt: Timestamp,
  /** The newest upload under its name: the one a plan validated now pins. */
  newest: z.boolean(),
});
export type ArtifactView = z.infer<typeof ArtifactView>;

/** The tenant's artifacts, newest first within a name, and the largest upload the API takes. */
export const ArtifactList = z.object({ artifacts: z.array(ArtifactView), maxBytes: z.number().int().min(1) });
export type ArtifactList = z.infer<typeof ArtifactList>;

/** An upload's answer: 201 with a new version, 200 when the same name already held these bytes. */
export const ArtifactAnswer = z.object({ artifact: ArtifactView });
export type ArtifactAnswer = z.infer<typeof ArtifactAnswer>;
