'use client';
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, issuesByField } from '../../lib/api';
import type { TokenIssued as Issued, TokenList, TokenView } from '@opsc/contracts/api';
import { TokenTable } from '../../components/identity/token-table';

/** Your own API tokens: create one (shown once), see when each was last used, revoke. */
export default function TokensPage() {
  const [tokens, setTokens] = useState<TokenView[] | null>(null);
  const [form, setForm] = useState({ name: '', days: '' });
  const [errors, setErrors] = useState<Map<string, string>>(new Map());
  const [issued, setIssued] = useState<Issued | null>(null);
  const [error, setError] = useState('');

  const load = useCallback(async () => {
    const res = await api<TokenList>('/tokens');
    if (res.ok) setTokens(res.data.tokens);
    else setError(res.error.message);
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    const res = await api<Issued>('/tokens', {
      body: { name: form.name, ...(form.days && { expiresInDays: Number(form.days) }) },
    });
    if (!res.ok) {
      setErrors(issuesByField(res.error.issues));
      setError(res.error.message);
      return;
    }
    setErrors(new Map());
    setError('');
    setIssued(res.data);
    setForm({ name: '', days: '' });
    await load();
  };
  const revoke = async (token: TokenView) => {
    const res = await api(`/tokens/${token.id}`, { method: 'DELETE' });
    setError(res.ok ? '' : res.error.message);
    if (issued?.id === token.id) setIssued(null);
    await load();
  };

  return (
    <section aria-label="API tokens">
      <h1>API tokens</h1>
      <p className="muted small">
        Tokens act as you, with your role, until they expire or are revoked. Send one as “Authorization: Bearer
        &lt;token&gt;”.
      </p>
      {error && (
        <p className="error-box" role="alert">
          {error}
        </p>
      )}
      {issued && (
        <div className="ok-box" role="status" data-testid="new-token">
          <p>
            New token <strong>{issued.name}</strong>, expires {new Date(issued.expiresAt).toLocaleDateString()}. Copy it
            now: it is not shown again.
          </p>
          <code className="mono" data-testid="new-token-value">
            {issued.token}
          </code>
        </div>
      )}
      <form className="filters" onSubmit={(e) => void create(e)} aria-label="Create a token" autoComplete="off">
        <label>
          Name
          <input
            name="token-name"
            value={form.name}
            onChange={(e) => setForm({ ...form, name: e.target.value })}
            aria-invalid={errors.has('name')}
            placeholder="ci pipeline"
          />
          {errors.get('name') && <span className="field-error">{errors.get('name')}</span>}
        </label>
        <label>
          Expires in days
          <input
            name="token-days"
            type="number"
            min={1}
            max={3650}
            placeholder="default"
            value={form.days}
            onChange={(e) => setForm({ ...form, days: e.target.value })}
            aria-invalid={errors.has('expiresInDays')}
          />
          {errors.get('expiresInDays') && <span className="field-error">{errors.get('expiresInDays')}</span>}
        </label>
        <button type="submit" className="primary" disabled={!form.name}>
          Create token
        </button>
      </form>
      <TokenTable tokens={tokens} testId="my-tokens-table" onRevoke={(t) => void revoke(t)} />
    </section>
  );
}
