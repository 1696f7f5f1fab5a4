'use client';
import { Suspense, useEffect, useState, type FormEvent } from 'react';
import { useRouter, useSearchParams } from 'next/navigation';
import { api } from '../../lib/api';
import { useSession } from '../../components/session';

const TENANT_KEY = 'opsc.tenant';

const LoginForm = () => {
  const router = useRouter();
  const params = useSearchParams();
  const { refresh } = useSession();
  const [tenant, setTenant] = useState('');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  // The tenant of the last sign-in on this browser: a name, not a secret.
  useEffect(() => setTenant((t) => t || (localStorage.getItem(TENANT_KEY) ?? '')), []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    const res = await api('/auth/login', { body: { tenant, username, password } });
    setBusy(false);
    if (!res.ok) {
      setError(res.error.message);
      return;
    }
    localStorage.setItem(TENANT_KEY, tenant);
    await refresh();
    const next = params.get('next');
    router.replace(next && next.startsWith('/') && !next.startsWith('//') ? next : '/');
  };

  return (
    <form className="login" onSubmit={(e) => void submit(e)} aria-labelledby="login-title">
      <h1 id="login-title">OpsConductor</h1>
      <p className="muted">Sign in to plan, approve and watch jobs.</p>
      <label>
        Tenant
        <input
          name="tenant"
          autoComplete="organization"
          required
          value={tenant}
          onChange={(e) => setTenant(e.target.value)}
        />
      </label>
      <label>
        Username
        <input
          name="username"
          autoComplete="username"
          autoFocus
          required
          value={username}
          onChange={(e) => setUsername(e.target.value)}
        />
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </label>
      {error && (
        <p className="field-error" role="alert" data-testid="login-error">
          {error}
        </p>
      )}
      <button type="submit" className="primary" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
};

export default function LoginPage() {
  return (
    <main className="login-page">
      <Suspense fallback={<p className="muted">Loading…</p>}>
        <LoginForm />
      </Suspense>
    </main>
  );
}
