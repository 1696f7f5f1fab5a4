'use client';
import { useCallback, useEffect, useState } from 'react';
import { api } from '../../lib/api';
import { dateTime } from '../../lib/format';
import {
  ROLES,
  type PasswordResetAnswer,
  type TokenList,
  type TokenView,
  type UserList,
  type UserView,
} from '@opsc/contracts/api';
import { atLeast, useSession } from '../../components/session';
import { ConfirmButton } from '../../components/confirm-button';
import { DataTable } from '../../components/data-table';
import { TokenTable } from '../../components/identity/token-table';
import { NewUserForm, OnceSecret } from '../../components/identity/new-user-form';

/** The tenant's users (admins): create, role, disable or enable, reset password, delete, and each one's API tokens. */
export default function UsersPage() {
  const { user: me } = useSession();
  const admin = atLeast(me, 'admin');
  const [users, setUsers] = useState<UserView[] | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [reset, setReset] = useState<{ username: string; password: string } | null>(null);
  const [tokensOf, setTokensOf] = useState<{ username: string; tokens: TokenView[] | null } | null>(null);

  const load = useCallback(async () => {
    const res = await api<UserList>('/users');
    if (res.ok) setUsers(res.data.users);
    else setMessage({ ok: false, text: res.error.message });
  }, []);
  const loadTokens = useCallback(async (username: string) => {
    setTokensOf({ username, tokens: null });
    const res = await api<TokenList>(`/users/${encodeURIComponent(username)}/tokens`);
    if (res.ok) setTokensOf({ username, tokens: res.data.tokens });
    else setMessage({ ok: false, text: res.error.message });
  }, []);
  useEffect(() => {
    if (admin) void load();
  }, [load, admin]);

  if (!admin) return <p className="note-box">Users are managed by admins; you are {me?.role}.</p>;

  /** Runs one change and shows the API's answer, its refusal included (the last admin of a tenant stays). */
  const act = async (path: string, init: { method: string; body?: unknown }, done: string) => {
    const res = await api(path, init);
    setMessage(res.ok ? { ok: true, text: done } : { ok: false, text: res.error.message });
    setConfirming(null);
    await load();
  };
  const userPath = (u: UserView) => `/users/${encodeURIComponent(u.username)}`;
  /** A generated password, shown once; the user's sessions end. */
  const resetPassword = async (u: UserView) => {
    const res = await api<PasswordResetAnswer>(`${userPath(u)}/password`, { body: {} });
    if (res.ok && res.data.generatedPassword) {
      setReset({ username: u.username, password: res.data.generatedPassword });
      setMessage({ ok: true, text: `${u.username}'s password was reset; their sessions ended` });
    } else setMessage({ ok: false, text: res.ok ? 'no password came back' : res.error.message });
  };
  const revoke = async (username: string, token: TokenView) => {
    await act(
      `/users/${encodeURIComponent(username)}/tokens/${token.id}`,
      { method: 'DELETE' },
      `Revoked ${username}'s token ${token.name}`,
    );
    await loadTokens(username);
  };

  return (
    <section aria-label="Users">
      <h1>Users</h1>
      <p className="muted small">
        Changes hold from each user&apos;s next request: disabling or deleting someone ends their sessions and stops
        their tokens at once.
      </p>
      <NewUserForm
        onCreated={async (text) => {
          setMessage({ ok: true, text });
          await load();
        }}
      />
      {reset && (
        <OnceSecret label={`New password of ${reset.username}`} value={reset.password} onDone={() => setReset(null)} />
      )}
      {message && (
        <p
          className={message.ok ? 'ok-box' : 'error-box'}
          role={message.ok ? 'status' : 'alert'}
          data-testid="users-message"
        >
          {message.text}
        </p>
      )}
      <DataTable
        rows={users}
        columns={['User', 'Role', 'State', 'Created', '']}
        testId="users-table"
        empty="No users."
        row={(u) => (
          <tr key={u.username} data-user={u.username} data-disabled={String(u.disabled)}>
            <td>
              {u.username}
              {u.displayName && <span className="muted small"> {u.displayName}</span>}
              {u.username === me?.username && <span className="muted small"> (you)</span>}
            </td>
            <td>
              <select
                aria-label={`Role of ${u.username}`}
                value={u.role}
                onChange={(e) =>
                  void act(
                    userPath(u),
                    { method: 'PATCH', body: { role: e.target.value } },
                    `${u.username} is now ${e.target.value}`,
                  )
                }
              >
                {ROLES.map((r) => (
                  <option key={r}>{r}</option>
                ))}
              </select>
            </td>
            <td className="small">
              {u.disabled ? 'disabled' : 'enabled'}
              {u.lockedUntil && <span className="warn-text"> · locked until {dateTime(u.lockedUntil)}</span>}
            </td>
            <td className="small">{dateTime(u.createdAt)}</td>
            <td>
              <div className="row">
                <button
                  type="button"
                  onClick={() =>
                    void act(
                      userPath(u),
                      { method: 'PATCH', body: { disabled: !u.disabled } },
                      `${u.username} is ${u.disabled ? 'enabled' : 'disabled'}`,
                    )
                  }
                >
                  {u.disabled ? 'Enable' : 'Disable'}
                </button>
                <ConfirmButton
                  label="Reset password"
                  confirmLabel="Confirm reset"
                  asking={confirming === `reset:${u.username}`}
                  onAsk={() => setConfirming(`reset:${u.username}`)}
                  onKeep={() => setConfirming(null)}
                  onConfirm={() => {
                    setConfirming(null);
                    void resetPassword(u);
                  }}
                />
                <button
                  type="button"
                  onClick={() => void loadTokens(u.username)}
                  aria-pressed={tokensOf?.username === u.username}
                >
                  Tokens
                </button>
                <ConfirmButton
                  label="Delete"
                  confirmLabel="Confirm delete"
                  danger
                  asking={confirming === u.username}
                  onAsk={() => setConfirming(u.username)}
                  onKeep={() => setConfirming(null)}
                  onConfirm={() => void act(userPath(u), { method: 'DELETE' }, `${u.username} deleted`)}
                />
              </div>
            </td>
          </tr>
        )}
      />
      {tokensOf && (
        <div className="panel" aria-label={`Tokens of ${tokensOf.username}`} style={{ marginTop: 12 }}>
          <h2>Tokens of {tokensOf.username}</h2>
          <TokenTable
            tokens={tokensOf.tokens}
            testId="user-tokens-table"
            onRevoke={(t) => void revoke(tokensOf.username, t)}
          />
        </div>
      )}
    </section>
  );
}
