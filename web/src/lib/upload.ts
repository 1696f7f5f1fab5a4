import type { ApiError, ArtifactAnswer } from '@opsc/contracts/api';
import type { ApiResult } from './api';

/**
 * Uploads a file to `POST /api/artifacts` through the same-origin proxy, reporting the bytes sent
 * (fetch cannot report an upload's progress; XMLHttpRequest can).
 */
export const uploadArtifact = (
  file: Blob,
  name: string,
  onProgress: (sent: number, total: number) => void,
): Promise<ApiResult<ArtifactAnswer>> =>
  new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/artifacts?name=${encodeURIComponent(name)}`);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.withCredentials = true;
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = null;
      }
      if (xhr.status === 200 || xhr.status === 201)
        resolve({ ok: true, status: xhr.status, data: body as ArtifactAnswer });
      else
        resolve({
          ok: false,
          status: xhr.status,
          error: (body as ApiError | null)?.error ?? { type: 'Internal', message: `the server answered ${xhr.status}` },
        });
    };
    xhr.onerror = () =>
      resolve({ ok: false, status: 0, error: { type: 'Unavailable', message: 'the server cannot be reached' } });
    xhr.send(file);
  });

/** Bytes as people read them. */
export const bytes = (n: number): string =>
  n < 1024
    ? `${n} B`
    : n < 1024 ** 2
      ? `${(n / 1024).toFixed(1)} KiB`
      : n < 1024 ** 3
        ? `${(n / 1024 ** 2).toFixed(1)} MiB`
        : `${(n / 1024 ** 3).toFixed(2)} GiB`;
