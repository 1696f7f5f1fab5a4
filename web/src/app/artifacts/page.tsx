'use client';
import { useCallback, useEffect, useState } from 'react';
import type { ArtifactList, ArtifactView } from '@opsc/contracts/api';
import { api } from '../../lib/api';
import { dateTime } from '../../lib/format';
import { bytes, uploadArtifact } from '../../lib/upload';
import { atLeast, useSession } from '../../components/session';
import { ConfirmButton } from '../../components/confirm-button';
import { DataTable } from '../../components/data-table';

/** The tenant's artifacts: the files file-copy sends. Upload (operators), list, download, delete (admins). */
export default function ArtifactsPage() {
  const { user: me } = useSession();
  const [list, setList] = useState<ArtifactList | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState('');
  const [progress, setProgress] = useState<{ sent: number; total: number } | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);

  const load = useCallback(async () => {
    const res = await api<ArtifactList>('/artifacts');
    if (res.ok) setList(res.data);
    else setMessage({ ok: false, text: res.error.message });
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const upload = async () => {
    if (!file) return;
    if (list && file.size > list.maxBytes) {
      setMessage({ ok: false, text: `${file.name} is ${bytes(file.size)}; the limit is ${bytes(list.maxBytes)}` });
      return;
    }
    setMessage(null);
    setProgress({ sent: 0, total: file.size });
    const res = await uploadArtifact(file, name || file.name, (sent, total) => setProgress({ sent, total }));
    setProgress(null);
    if (res.ok) {
      const a = res.data.artifact;
      setMessage({
        ok: true,
        text: `${res.status === 201 ? 'Uploaded' : 'Already uploaded'}: ${a.name}, ${bytes(a.sizeBytes)}, SHA-256 ${a.sha256}`,
      });
      setFile(null);
      setName('');
    } else {
      const field = res.error.issues?.map((i) => `${i.path}: ${i.message}`).join('; ');
      setMessage({ ok: false, text: `${res.error.message}${field ? ` (${field})` : ''}` });
    }
    await load();
  };

  const remove = async (a: ArtifactView) => {
    const res = await api(`/artifacts/${a.id}`, { method: 'DELETE' });
    setMessage(
      res.ok
        ? { ok: true, text: `Deleted ${a.name} (${a.sha256.slice(0, 12)}…)` }
        : { ok: false, text: res.error.message },
    );
    setConfirming(null);
    await load();
  };

  return (
    <section aria-label="Artifacts">
      <h1>Artifacts</h1>
      <p className="muted small">
        The files a copy step sends, kept in the database where every executor reads them. An upload under a name that
        exists adds a version; a plan pins the SHA-256 of the version it was validated with, so a later upload changes
        no approved job.
      </p>
      {message && (
        <p
          className={message.ok ? 'ok-box' : 'error-box'}
          role={message.ok ? 'status' : 'alert'}
          data-testid="artifacts-message"
        >
          {message.text}
        </p>
      )}
      {atLeast(me, 'operator') && (
        <form
          className="panel row"
          aria-label="Upload an artifact"
          onSubmit={(e) => {
            e.preventDefault();
            void upload();
          }}
        >
          <label>
            File{' '}
            <input
              type="file"
              name="file"
              onChange={(e) => {
                const chosen = e.target.files?.[0] ?? null;
                setFile(chosen);
                if (chosen && !name) setName(chosen.name);
              }}
            />
          </label>
          <label>
            Name{' '}
            <input
              type="text"
              name="name"
              value={name}
              placeholder="app/app-2.0.bin"
              onChange={(e) => setName(e.target.value)}
            />
          </label>
          <button type="submit" disabled={!file || progress !== null}>
            Upload
          </button>
          {list && <span className="muted small">at most {bytes(list.maxBytes)}</span>}
          {progress && (
            <progress
              aria-label="Upload progress"
              data-testid="upload-progress"
              value={progress.sent}
              max={progress.total || 1}
            />
          )}
        </form>
      )}
      <DataTable
        rows={list?.artifacts ?? null}
        failed={message?.ok === false && !list}
        columns={['Name', 'Size', 'SHA-256', 'Uploaded', '']}
        testId="artifacts-table"
        empty="No artifacts yet: upload the files your copy steps send."
        row={(a) => (
          <tr key={a.id} data-artifact={a.name} data-sha256={a.sha256}>
            <td>
              {a.name}
              {!a.newest && <span className="muted small"> (older version)</span>}
            </td>
            <td className="small">{bytes(a.sizeBytes)}</td>
            <td>
              <code className="small" title={a.sha256}>
                {a.sha256}
              </code>
            </td>
            <td className="small">
              {dateTime(a.createdAt)} by {a.uploadedBy}
            </td>
            <td>
              <div className="row">
                <a href={`/api/artifacts/${a.id}/content`} download>
                  Download
                </a>
                {atLeast(me, 'admin') && (
                  <ConfirmButton
                    label="Delete"
                    confirmLabel="Confirm delete"
                    danger
                    asking={confirming === a.id}
                    onAsk={() => setConfirming(a.id)}
                    onKeep={() => setConfirming(null)}
                    onConfirm={() => void remove(a)}
                  />
                )}
              </div>
            </td>
          </tr>
        )}
      />
    </section>
  );
}
