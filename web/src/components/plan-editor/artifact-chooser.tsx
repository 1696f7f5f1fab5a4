'use client';
import { useEffect, useState } from 'react';
import type { ArtifactList, ArtifactView } from '@opsc/contracts/api';
import { api } from '../../lib/api';
import { bytes } from '../../lib/upload';
import { FieldFoot, useField } from './fields';

/**
 * A copy step's source: one of the tenant's uploaded artifacts. Choosing a version sets the name and
 * pins its SHA-256 in the step; the validator pins the newest upload's when only a name is given.
 */
export const ArtifactChooser = ({
  field,
  source,
  sha256,
  question,
  onPick,
}: {
  field: string;
  source: unknown;
  sha256: unknown;
  question?: string | undefined;
  onPick: (name: string | undefined, sha256: string | undefined) => void;
}) => {
  const f = useField(field);
  const [artifacts, setArtifacts] = useState<ArtifactView[] | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  useEffect(() => {
    void api<ArtifactList>('/artifacts').then((res) => {
      if (res.ok) setArtifacts(res.data.artifacts);
      else setFailed(res.error.message);
    });
  }, []);
  const chosen =
    artifacts?.find((a) => a.name === source && (sha256 === undefined ? a.newest : a.sha256 === sha256)) ?? null;
  const known = chosen !== null || source === undefined;
  const ask = question && !f.messages.length;
  return (
    <div className={`param${question ? ' needed' : ''}`}>
      <label htmlFor={f.id}>
        <span>
          source <span className="muted small">uploaded artifact, required</span>
        </span>
      </label>
      <select
        {...f.control}
        aria-describedby={ask ? f.hintId : f.control['aria-describedby']}
        data-artifact-chooser="true"
        value={chosen?.id ?? (known ? '' : 'other')}
        onChange={(e) => {
          const picked = artifacts?.find((a) => a.id === e.target.value);
          onPick(picked?.name, picked?.sha256);
        }}
      >
        <option value="">— choose an uploaded artifact —</option>
        {!known && <option value="other">{`${String(source)} (not uploaded)`}</option>}
        {(artifacts ?? []).map((a) => (
          <option key={a.id} value={a.id}>
            {`${a.name} · ${bytes(a.sizeBytes)} · sha256 ${a.sha256.slice(0, 12)}…${a.newest ? '' : ' (older)'}`}
          </option>
        ))}
      </select>
      {artifacts?.length === 0 && <p className="small muted">No artifacts yet: upload one on the Artifacts page.</p>}
      {failed && <p className="small warn-text">{failed}</p>}
      <FieldFoot f={f} field={field} question={question} />
    </div>
  );
};
