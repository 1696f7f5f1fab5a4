import { ArtifactAnswer, ArtifactList, ArtifactUploadQuery } from './artifacts.js';
import type { ApiRoute } from './route.js';

/** The tenant's artifacts: the files file-copy sends, kept in PostgreSQL. */
export const ARTIFACT_ROUTES: readonly ApiRoute[] = [
  {
    method: 'GET',
    path: '/api/artifacts',
    role: 'viewer',
    summary: "The tenant's artifacts, every version, newest first within a name.",
    answers: { 200: ArtifactList },
  },
  {
    method: 'POST',
    path: '/api/artifacts',
    role: 'operator',
    summary:
      'Uploads an artifact under `name`: a new immutable version (201), or the existing one when the name already holds these bytes (200). A plan pins the SHA-256 of the newest version when it is validated. A user has at most `ARTIFACT_UPLOADS_PER_USER` uploads in flight (429); a body silent for `ARTIFACT_UPLOAD_IDLE_SECONDS` is ended with 408 (type `Timeout`) and nothing is kept.',
    query: ArtifactUploadQuery,
    rawBody: {
      mediaType: 'application/octet-stream',
      description: 'the file, streamed; at most the limit `GET /api/artifacts` reports (`maxBytes`)',
    },
    answers: { 200: ArtifactAnswer, 201: ArtifactAnswer },
    errors: ['TooLarge', 'RateLimited', 'Unavailable'],
  },
  {
    method: 'GET',
    path: '/api/artifacts/:id',
    role: 'viewer',
    summary: "One artifact version's record.",
    answers: { 200: ArtifactAnswer },
  },
  {
    method: 'GET',
    path: '/api/artifacts/:id/content',
    role: 'viewer',
    summary: 'Downloads the artifact version (`application/octet-stream`).',
    answers: { 200: null },
  },
  {
    method: 'DELETE',
    path: '/api/artifacts/:id',
    role: 'admin',
    summary: 'Deletes an artifact version; refused (409) while a queued or running job copies it.',
    answers: { 204: null },
    errors: ['Conflict'],
  },
];
