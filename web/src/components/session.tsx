'use client';
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import Link from 'next/link';
import { usePathname, useRouter } from 'next/navigation';
import { api } from '../lib/api';
import type { MeAnswer, SessionUser } from '@opsc/contracts/api';

const RANK = { viewer: 0, operator: 1, approver: 2, admin: 3 } as const;
/** Roles include the ones before them, as in the API. */
export const atLeast = (user: SessionUser | null, role: SessionUser['role']): boolean =>
  Boolean(user && RANK[user.role] >= RANK[role]);

const SessionContext = createContext<{ user: SessionUser | null; refresh: () => Promise<void> }>({
  user: null,
  refresh: async () => undefined,
});
export const useSession = () => useContext(SessionContext);

const NAV: { href: string; label: string; role: SessionUser['role'] }[] = [
  { href: '/', label: 'Chat', role: 'operator' },
  { href: '/approvals', label: 'Approvals', role: 'viewer' },
  { href: '/jobs', label: 'Jobs', role: 'viewer' },
  { href: '/templates', label: 'Templates', role: 'viewer' },
  { href: '/schedules', label: 'Schedules', role: 'operator' },
  { href: '/triggers', label: 'Triggers', role: 'operator' },
  { href: '/inventory', label: 'Inventory', role: 'viewer' },
  { href: '/artifacts', label: 'Artifacts', role: 'viewer' },
  { href: '/users', label: 'Users', role: 'admin' },
  { href: '/audit', label: 'Audit log', role: 'admin' },
  { href: '/notifications', label: 'Notifications', role: 'admin' },
  { href: '/tokens', label: 'API tokens', role: 'viewer' },
];

const UserMenu = ({ user }: { user: SessionUser }) => {
  const router = useRouter();
  const signOut = async () => {
    await api('/auth/logout', { method: 'POST', body: {} });
    router.replace('/login');
    router.refresh();
  };
  return (
    <details className="user-menu" data-testid="user-menu">
      <summary aria-label={`Signed in as ${user.username}`}>
        <span className="user-name">{user.username}</span>
        <span className="user-role">{user.role}</span>
      </summary>
      <div className="user-menu-panel" role="menu">
        <dl>
          <dt>User</dt>
          <dd>{user.username}</dd>
          <dt>Role</dt>
          <dd data-testid="user-role">{user.role}</dd>
          <dt>Tenant</dt>
          <dd data-testid="user-tenant">{user.tenant}</dd>
        </dl>
        <button type="button" onClick={() => void signOut()}>
          Sign out
        </button>
      </div>
    </details>
  );
};

/** The frame of every page: the session (or a redirect to sign in), the navigation, the user menu. */
export const Shell = ({ children }: { children: ReactNode }) => {
  const pathname = usePathname();
  const router = useRouter();
  const [user, setUser] = useState<SessionUser | null>(null);
  const [state, setState] = useState<'loading' | 'ready' | 'error'>('loading');
  const [message, setMessage] = useState('');
  const onLogin = pathname.startsWith('/login');

  const refresh = useCallback(async () => {
    const me = await api<MeAnswer>('/auth/me');
    if (me.ok) {
      setUser(me.data.user);
      setState('ready');
    } else if (me.status === 401) {
      setUser(null);
      setState('ready');
    } else {
      setMessage(me.error.message);
      setState('error');
    }
  }, []);

  useEffect(() => {
    // The sign-in page asks no one who is signed in; it refreshes the session itself after a sign-in.
    if (!onLogin) void refresh();
  }, [refresh, pathname, onLogin]);

  useEffect(() => {
    if (state === 'ready' && !user && !onLogin) router.replace(`/login?next=${encodeURIComponent(pathname)}`);
  }, [state, user, onLogin, pathname, router]);

  if (onLogin) return <SessionContext.Provider value={{ user, refresh }}>{children}</SessionContext.Provider>;
  return (
    <SessionContext.Provider value={{ user, refresh }}>
      <header className="topbar">
        <Link href="/" className="brand">
          OpsConductor
        </Link>
        <nav aria-label="Main">
          {NAV.filter((n) => atLeast(user, n.role)).map((n) => (
            <Link
              key={n.href}
              href={n.href}
              className={(n.href === '/' ? pathname === '/' : pathname.startsWith(n.href)) ? 'active' : ''}
            >
              {n.label}
            </Link>
          ))}
        </nav>
        {user && <UserMenu user={user} />}
      </header>
      <main className="page">
        {state === 'loading' && <p className="muted">Loading…</p>}
        {state === 'error' && (
          <div className="error-box" role="alert">
            Cannot reach the API: {message}{' '}
            <button type="button" onClick={() => void refresh()}>
              Retry
            </button>
          </div>
        )}
        {state === 'ready' && user && children}
      </main>
    </SessionContext.Provider>
  );
};
