'use client';
import { useState, type FormEvent } from 'react';
import type { CredentialAnswer, CredentialView } from '@opsc/contracts/api';
import { api, issuesByField } from '../../lib/api';
import { dateTime } from '../../lib/format';
import { DataTable } from '../data-table';

const KINDS = ['password', 'ssh-key', 'winrm', 'api-token'] as const;
const SECRET_FIELD: Record<(typeof KINDS)[number], string> = {
  password: 'password',
  'ssh-key': 'privateKey',
  winrm: 'password',
  'api-token': 'token',
};

/** Credentials: metadata and fingerprint only. The secret goes in once, sealed on arrival, and never comes back. */
export const Credentials = ({
  items,
  admin,
  onSaved,
}: {
  items: CredentialView[];
  admin: boolean;
  onSaved: () => void;
}) => {
  const [form, setForm] = useState({ name: '', username: '', kind: 'password' as (typeof KINDS)[number], secret: '' });
  const [errors, setErrors] = useState<Map<string, string>>(new Map());
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const save = async (e: FormEvent) => {
    e.preventDefault();
    const body = {
      name: form.name,
      ...(form.username && { username: form.username }),
      secret: { kind: form.kind, [SECRET_FIELD[form.kind]]: form.secret },
    };
    const res = await api<CredentialAnswer>('/credentials', { body });
    if (res.ok) {
      // The secret leaves the page's memory as soon as the API has it.
      setForm({ name: '', username: '', kind: form.kind, secret: '' });
      setErrors(new Map());
      setMessage({
        ok: true,
        text: `Saved ${res.data.credential.name}; fingerprint ${res.data.credential.fingerprint}`,
      });
      onSaved();
    } else {
      setErrors(issuesByField(res.error.issues));
      setMessage({ ok: false, text: res.error.message });
    }
  };
  const secretPath = `secret.${SECRET_FIELD[form.kind]}`;
  return (
    <>
      <DataTable
        rows={items}
        columns={['Name', 'Kind', 'Username', 'Fingerprint', 'Vault key', 'Updated']}
        testId="credentials-table"
        empty="No credentials yet."
        row={(c) => (
          <tr key={c.name}>
            <td>{c.name}</td>
            <td>{c.kind}</td>
            <td>{c.username ?? '—'}</td>
            <td className="mono small" data-testid="fingerprint">
              {c.fingerprint}
            </td>
            <td className="mono small">{c.keyId}</td>
            <td className="small">{dateTime(c.updatedAt)}</td>
          </tr>
        )}
      />
      {admin && (
        <form
          className="panel credential-form"
          onSubmit={(e) => void save(e)}
          aria-label="Add a credential"
          autoComplete="off"
        >
          <h2>Add a credential</h2>
          <p className="small muted">
            Write-only: the secret is sealed for the executor&apos;s vault key the moment it arrives. No one can read it
            back here.
          </p>
          <div className="params">
            <label>
              Name
              <input
                name="cred-name"
                value={form.name}
                onChange={(e) => setForm({ ...form, name: e.target.value })}
                aria-invalid={errors.has('name')}
              />
              {errors.get('name') && <span className="field-error">{errors.get('name')}</span>}
            </label>
            <label>
              Username
              <input
                name="cred-username"
                value={form.username}
                onChange={(e) => setForm({ ...form, username: e.target.value })}
              />
            </label>
            <label>
              Kind
              <select
                name="cred-kind"
                value={form.kind}
                onChange={(e) => setForm({ ...form, kind: e.target.value as (typeof KINDS)[number], secret: '' })}
              >
                {KINDS.map((k) => (
                  <option key={k}>{k}</option>
                ))}
              </select>
            </label>
          </div>
          <label>
            {form.kind === 'ssh-key'
              ? 'Private key (PEM or OpenSSH)'
              : form.kind === 'api-token'
                ? 'Token'
                : 'Password'}
            {form.kind === 'ssh-key' ? (
              <textarea
                name="cred-secret"
                rows={4}
                value={form.secret}
                onChange={(e) => setForm({ ...form, secret: e.target.value })}
                aria-invalid={errors.has(secretPath)}
                spellCheck={false}
              />
            ) : (
              <input
                name="cred-secret"
                type="password"
                autoComplete="new-password"
                value={form.secret}
                onChange={(e) => setForm({ ...form, secret: e.target.value })}
                aria-invalid={errors.has(secretPath)}
              />
            )}
            {errors.get(secretPath) && <span className="field-error">{errors.get(secretPath)}</span>}
          </label>
          <div className="row actions">
            <button type="submit" className="primary" disabled={!form.name || !form.secret}>
              Save credential
            </button>
          </div>
          {message && (
            <p className={message.ok ? 'ok-box' : 'error-box'} role="status" data-testid="credential-result">
              {message.text}
            </p>
          )}
        </form>
      )}
    </>
  );
};
