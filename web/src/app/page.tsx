'use client';
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { GroupList, PlanProposal, TargetList, ToolList, ToolSummary } from '@opsc/contracts/api';
import { api } from '../lib/api';
import { PlanCard } from '../components/plan-card';
import { EMPTY_INVENTORY, type InventoryView } from '../components/plan-editor/target-editor';
import { atLeast, useSession } from '../components/session';

type Entry =
  | { kind: 'user'; id: number; text: string }
  | { kind: 'ai'; id: number; proposal: PlanProposal }
  | { kind: 'error'; id: number; text: string };

const EXAMPLES = [
  "Update nginx to latest version on all web servers in 'Production Web' group and restart service",
  "Check disk usage of / on the servers in 'Production Web'",
];

/** Chat: a request in words, the planner's answer, the plan to review, edit and run. */
export default function ChatPage() {
  const { user } = useSession();
  const [entries, setEntries] = useState<Entry[]>([]);
  const [input, setInput] = useState('');
  const [busy, setBusy] = useState(false);
  const [tools, setTools] = useState<Map<string, ToolSummary>>(new Map());
  const [unavailable, setUnavailable] = useState<ToolList['unavailable']>([]);
  const [inventory, setInventory] = useState<InventoryView>(EMPTY_INVENTORY);
  const nextId = useRef(1);
  const end = useRef<HTMLDivElement>(null);

  /** The groups and targets the plan editor offers and checks names against: read again with each new plan. */
  const readInventory = async () => {
    const [groups, targets] = await Promise.all([
      api<GroupList>('/inventory/groups'),
      api<TargetList>('/inventory/targets'),
    ]);
    if (groups.ok && targets.ok)
      setInventory({
        loaded: true,
        groups: groups.data.groups.map((g) => g.name).sort((a, b) => a.localeCompare(b)),
        targets: targets.data.targets.map(({ name, os, tags }) => ({ name, os, tags })),
      });
  };

  useEffect(() => {
    void api<ToolList>('/tools').then((res) => {
      if (!res.ok) return;
      setTools(new Map(res.data.tools.map((t) => [t.name, t])));
      setUnavailable(res.data.unavailable);
    });
    void readInventory();
  }, []);
  // A block body: newer Chromium's scrollIntoView returns a promise, which React would take for a cleanup.
  useEffect(() => {
    void end.current?.scrollIntoView({ block: 'end' });
  }, [entries.length]);

  const send = async (e?: FormEvent) => {
    e?.preventDefault();
    const request = input.trim();
    if (!request || busy) return;
    setBusy(true);
    setEntries((all) => [...all, { kind: 'user', id: nextId.current++, text: request }]);
    setInput('');
    const [res] = await Promise.all([api<PlanProposal>('/plans', { body: { request } }), readInventory()]);
    setBusy(false);
    setEntries((all) => [
      ...all,
      res.ok
        ? { kind: 'ai', id: nextId.current++, proposal: res.data }
        : { kind: 'error', id: nextId.current++, text: res.error.message },
    ]);
  };
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey) void send(e);
  };

  if (!atLeast(user, 'operator'))
    return (
      <p className="note-box">Planning needs the operator role; you are {user?.role}. The Jobs page shows what runs.</p>
    );
  return (
    <section className="chat" aria-label="Chat">
      <div className="conversation" aria-live="polite">
        {entries.length === 0 && (
          <div className="note-box" data-testid="chat-empty">
            <p>
              Say what to do, in plain words. I answer with a plan: what will happen, on which targets, at what risk and
              how long. Nothing runs until you say so.
            </p>
            <p className="small muted">For example:</p>
            <ul className="small">
              {EXAMPLES.map((x) => (
                <li key={x}>
                  <button type="button" className="link" onClick={() => setInput(x)}>
                    {x}
                  </button>
                </li>
              ))}
            </ul>
            {unavailable.length > 0 && (
              <details className="small muted" data-testid="unavailable-tools">
                <summary>
                  {unavailable.length} tool{unavailable.length === 1 ? '' : 's'} not available here (
                  {unavailable.map((t) => t.name).join(', ')})
                </summary>
                <ul>
                  {unavailable.map((t) => (
                    <li key={t.name}>
                      <strong>{t.name}</strong>: {t.reason}
                    </li>
                  ))}
                </ul>
              </details>
            )}
          </div>
        )}
        {entries.map((entry) =>
          entry.kind === 'user' ? (
            <p key={entry.id} className="msg user" data-testid="user-message">
              {entry.text}
            </p>
          ) : entry.kind === 'ai' ? (
            <PlanCard key={entry.id} proposal={entry.proposal} tools={tools} inventory={inventory} />
          ) : (
            <p key={entry.id} className="msg error-box" role="alert">
              {entry.text}
            </p>
          ),
        )}
        {busy && (
          <p className="msg ai muted" data-testid="planning">
            Planning…
          </p>
        )}
        <div ref={end} />
      </div>
      <form className="composer" onSubmit={(e) => void send(e)}>
        <label htmlFor="request" className="sr-only">
          Request
        </label>
        <textarea
          id="request"
          name="request"
          rows={2}
          placeholder="e.g. Update nginx on all web servers in 'Production Web' and restart it"
          value={input}
          onChange={(e) => setInput(e.target.value)}
          onKeyDown={onKey}
        />
        <button type="submit" className="primary" disabled={busy || !input.trim()}>
          Plan
        </button>
      </form>
    </section>
  );
}
