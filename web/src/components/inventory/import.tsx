'use client';
import { useState } from 'react';
import type { ImportAnswer, ImportDiff } from '@opsc/contracts/api';
import { api } from '../../lib/api';

const DiffView = ({ diff }: { diff: ImportDiff }) => (
  <div className="diff" data-testid="import-diff">
    {(['targets', 'groups'] as const).map((kind) => (
      <div key={kind}>
        <h3>{kind}</h3>
        <ul className="small mono">
          {diff[kind].create.map((n) => (
            <li key={`c-${n}`} className="ok-text">
              + {n}
            </li>
          ))}
          {diff[kind].update.map((u) => (
            <li key={`u-${u.name}`} className="warn-text">
              ~ {u.name} ({u.fields.join(', ')})
            </li>
          ))}
          <li className="muted">{diff[kind].unchanged} unchanged</li>
        </ul>
      </div>
    ))}
  </div>
);

/** Ansible inventory import: a dry run shows what would change; only that exact file can then be applied. */
export const InventoryImport = ({ onApplied }: { onApplied: () => void }) => {
  const [format, setFormat] = useState<'ini' | 'yaml'>('ini');
  const [content, setContent] = useState('');
  const [ssh, setSsh] = useState('');
  const [winrm, setWinrm] = useState('');
  const [preview, setPreview] = useState<{ key: string; answer: ImportAnswer } | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const key = JSON.stringify([format, content, ssh, winrm]);
  const send = async (dryRun: boolean) => {
    setBusy(true);
    setResult(null);
    const defaultCredentials = { ...(ssh && { ssh }), ...(winrm && { winrm }) };
    const res = await api<ImportAnswer>('/inventory/import', {
      body: { format, content, dryRun, ...(Object.keys(defaultCredentials).length && { defaultCredentials }) },
    });
    setBusy(false);
    if (!res.ok) {
      setPreview(null);
      setResult({
        ok: false,
        text: `${res.error.message}${res.error.issues?.length ? `: ${res.error.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}` : ''}`,
      });
      return;
    }
    if (dryRun) setPreview({ key, answer: res.data });
    else {
      setPreview(null);
      setResult({
        ok: true,
        text: `Imported: ${res.data.diff.targets.create.length} targets created, ${res.data.diff.targets.update.length} updated; ${res.data.diff.groups.create.length} groups created, ${res.data.diff.groups.update.length} updated.`,
      });
      onApplied();
    }
  };
  const previewed = preview?.key === key;
  return (
    <div className="panel" aria-label="Import an Ansible inventory">
      <h2>Import an Ansible inventory</h2>
      <div className="params">
        <label>
          Format
          <select value={format} onChange={(e) => setFormat(e.target.value as 'ini' | 'yaml')} name="import-format">
            <option value="ini">INI</option>
            <option value="yaml">YAML</option>
          </select>
        </label>
        <label>
          SSH credential for imported hosts
          <input value={ssh} onChange={(e) => setSsh(e.target.value)} name="import-ssh" />
        </label>
        <label>
          WinRM credential for imported hosts
          <input value={winrm} onChange={(e) => setWinrm(e.target.value)} name="import-winrm" />
        </label>
      </div>
      <label>
        Inventory file
        <textarea
          rows={8}
          value={content}
          onChange={(e) => setContent(e.target.value)}
          name="import-content"
          spellCheck={false}
          className="mono"
          placeholder={'[web]\nweb-01 ansible_host=10.0.0.11\n'}
        />
      </label>
      <div className="row actions">
        <button type="button" onClick={() => void send(true)} disabled={busy || !content.trim()}>
          Preview changes (dry run)
        </button>
        <button
          type="button"
          className="primary"
          onClick={() => void send(false)}
          disabled={busy || !previewed}
          title={previewed ? undefined : 'Preview this exact file first'}
        >
          Apply import
        </button>
      </div>
      {preview && previewed && (
        <>
          <p className="small muted">Dry run: nothing was written. Objects not in the file are left alone.</p>
          <DiffView diff={preview.answer.diff} />
          {preview.answer.notes.map((n, i) => (
            <p key={i} className="small warn-text">
              {n}
            </p>
          ))}
        </>
      )}
      {result && (
        <p className={result.ok ? 'ok-box' : 'error-box'} role="status" data-testid="import-result">
          {result.text}
        </p>
      )}
    </div>
  );
};
