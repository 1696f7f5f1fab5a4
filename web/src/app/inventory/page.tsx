'use client';
import { useCallback, useEffect, useState } from 'react';
import type {
  CredentialList,
  CredentialView,
  GroupList,
  GroupView as Group,
  ResolvedTarget,
  TargetList,
} from '@opsc/contracts/api';
import { api } from '../../lib/api';
import { atLeast, useSession } from '../../components/session';
import { Credentials } from '../../components/inventory/credentials';
import { InventoryImport } from '../../components/inventory/import';
import { DataTable } from '../../components/data-table';

type Tab = 'targets' | 'groups' | 'credentials' | 'import';

/** A group and its children, nested; a cycle cannot be stored, but the walk stops on one anyway. */
const GroupNode = ({ group, byName, seen }: { group: Group; byName: Map<string, Group>; seen: Set<string> }) => (
  <li data-group={group.name}>
    <details open>
      <summary>
        <strong>{group.name}</strong>{' '}
        <span className="muted small">
          {group.targets.length} targets{group.children.length ? `, ${group.children.length} subgroups` : ''}
        </span>
        {group.pool && <span className="badge small"> pool {group.pool}</span>}
        {group.description && <span className="muted small"> — {group.description}</span>}
      </summary>
      {group.targets.length > 0 && <p className="small mono group-targets">{group.targets.join(', ')}</p>}
      {group.children.length > 0 && (
        <ul className="tree">
          {group.children.map((c) => {
            const child = byName.get(c);
            return child && !seen.has(c) ? (
              <GroupNode key={c} group={child} byName={byName} seen={new Set(seen).add(c)} />
            ) : (
              <li key={c}>{c}</li>
            );
          })}
        </ul>
      )}
    </details>
  </li>
);

export default function InventoryPage() {
  const { user } = useSession();
  const admin = atLeast(user, 'admin');
  const [tab, setTab] = useState<Tab>('targets');
  const [targets, setTargets] = useState<ResolvedTarget[] | null>(null);
  const [groups, setGroups] = useState<Group[] | null>(null);
  const [credentials, setCredentials] = useState<CredentialView[] | null>(null);
  const [error, setError] = useState('');

  const load = useCallback(async () => {
    const [t, g, c] = await Promise.all([
      api<TargetList>('/inventory/targets'),
      api<GroupList>('/inventory/groups'),
      api<CredentialList>('/credentials'),
    ]);
    const failed = [t, g, c].find((r) => !r.ok);
    setError(failed && !failed.ok ? failed.error.message : '');
    if (t.ok) setTargets(t.data.targets);
    if (g.ok) setGroups(g.data.groups);
    if (c.ok) setCredentials(c.data.credentials);
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const byName = new Map((groups ?? []).map((g) => [g.name, g]));
  const roots = (groups ?? []).filter((g) => !(groups ?? []).some((p) => p.children.includes(g.name)));
  const tabs: Tab[] = admin ? ['targets', 'groups', 'credentials', 'import'] : ['targets', 'groups', 'credentials'];
  return (
    <section aria-label="Inventory">
      <h1>Inventory</h1>
      <div className="tabs" role="tablist">
        {tabs.map((t) => (
          <button key={t} type="button" role="tab" aria-selected={tab === t} onClick={() => setTab(t)}>
            {t === 'import' ? 'Ansible import' : t[0]?.toUpperCase() + t.slice(1)}
            {t === 'targets' && targets
              ? ` (${targets.length})`
              : t === 'groups' && groups
                ? ` (${groups.length})`
                : t === 'credentials' && credentials
                  ? ` (${credentials.length})`
                  : ''}
          </button>
        ))}
      </div>
      {error && (
        <p className="error-box" role="alert">
          {error}
        </p>
      )}
      {tab === 'targets' && (
        <DataTable
          rows={targets}
          columns={['Name', 'Address', 'OS', 'Tags', 'Services', 'Executor pool']}
          testId="targets-table"
          empty={`No targets yet.${admin ? ' Add them through the API or import an Ansible inventory.' : ''}`}
          row={(t) => (
            <tr key={t.id}>
              <td className="mono">{t.name}</td>
              <td className="mono">{t.address}</td>
              <td>{t.os}</td>
              <td className="small">{t.tags.join(', ') || '—'}</td>
              <td className="small">
                {t.services
                  .map(
                    (s) =>
                      `${s.protocol}:${'port' in s ? String(s.port) : ''}${s.credential ? ` (${s.credential})` : ''}`,
                  )
                  .join(', ') || '—'}
              </td>
              <td className="small" data-testid="target-pool">
                {t.poolConflict ? (
                  <span className="fail-text">groups disagree: {t.poolConflict.join(', ')}</span>
                ) : (
                  <>
                    {t.executorPool ?? 'executor'}
                    {!t.pool && t.executorPool && t.executorPool !== 'executor' && (
                      <span className="muted"> (from its groups)</span>
                    )}
                  </>
                )}
              </td>
            </tr>
          )}
        />
      )}
      {tab === 'groups' &&
        (groups === null ? (
          <p className="muted">Loading…</p>
        ) : groups.length === 0 ? (
          <p className="note-box">No groups yet.</p>
        ) : (
          <ul className="tree panel" data-testid="group-tree">
            {roots.map((g) => (
              <GroupNode key={g.name} group={g} byName={byName} seen={new Set([g.name])} />
            ))}
          </ul>
        ))}
      {tab === 'credentials' &&
        (credentials === null ? (
          <p className="muted">Loading…</p>
        ) : (
          <Credentials items={credentials} admin={admin} onSaved={() => void load()} />
        ))}
      {tab === 'import' && admin && <InventoryImport onApplied={() => void load()} />}
    </section>
  );
}
