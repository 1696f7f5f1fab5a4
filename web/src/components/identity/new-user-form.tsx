'use client';
import { useState } from 'react';
import { ROLES, type Role, type UserCreated } from '@opsc/contracts/api';
import { api, issuesByField } from '../../lib/api';

/** A password shown once: the server keeps only its hash, so it is copied now or reset later. */
export const OnceSecret = ({ label, value, onDone }: { label: string; value: string; onDone: () => void }) => (
  <div className="ok-box" role="status" data-testid="once-secret">
    <p>
      {label}: <code data-testid="once-secret-value">{value}</code>
    </p>
    <p className="small muted">Shown this once: hand it over now. It cannot be shown again, only reset.</p>
    <button type="button" onClick={onDone}>
      Done
    </button>
  </div>
);

/** Creates a user of the tenant: a username, a role, and an initial password or a generated one. */
export const NewUserForm = ({ onCreated }: { onCreated: (text: string) => void | Promise<void> }) => {
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<Role>('operator');
  const [mode, setMode] = useState<'generate' | 'given'>('generate');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<Map<string, string>>(new Map());
  const [failure, setFailure] = useState<string | null>(null);
  const [secret, setSecret] = useState<{ username: string; password: string } | null>(null);

  const submit = async () => {
    const body = { username, role, ...(mode === 'generate' ? { generatePassword: true } : { password }) };
    const res = await api<UserCreated>('/users', { body });
    if (!res.ok) {
      setErrors(issuesByField(res.error.issues));
      setFailure(res.error.message);
      return;
    }
    setErrors(new Map());
    setFailure(null);
    setUsername('');
    setPassword('');
    if (res.data.generatedPassword)
      setSecret({ username: res.data.user.username, password: res.data.generatedPassword });
    await onCreated(`${res.data.user.username} created as ${res.data.user.role}`);
  };

  return (
    <div className="panel" style={{ marginBottom: 12 }}>
      <h2>New user</h2>
      <form
        className="row"
        aria-label="New user"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label>
          Username{' '}
          <input
            type="text"
            name="username"
            value={username}
            aria-invalid={errors.has('username')}
            onChange={(e) => setUsername(e.target.value)}
          />
        </label>
        <label>
          Role{' '}
          <select name="role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <label>
          <input
            type="radio"
            name="password-mode"
            value="generate"
            checked={mode === 'generate'}
            onChange={() => setMode('generate')}
          />{' '}
          Generate a password
        </label>
        <label>
          <input
            type="radio"
            name="password-mode"
            value="given"
            checked={mode === 'given'}
            onChange={() => setMode('given')}
          />{' '}
          Set one
        </label>
        {mode === 'given' && (
          <label>
            Initial password{' '}
            <input
              type="password"
              name="password"
              autoComplete="new-password"
              value={password}
              aria-invalid={errors.has('password')}
              onChange={(e) => setPassword(e.target.value)}
            />
          </label>
        )}
        <button type="submit" disabled={!username}>
          Create
        </button>
      </form>
      {failure && (
        <p className="error-box" role="alert" data-testid="new-user-error">
          {failure}
          {[...errors].map(([field, message]) => ` · ${field}: ${message}`).join('')}
        </p>
      )}
      {secret && (
        <OnceSecret label={`Password of ${secret.username}`} value={secret.password} onDone={() => setSecret(null)} />
      )}
    </div>
  );
};
