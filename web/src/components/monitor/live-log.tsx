'use client';
import { useEffect, useMemo, useRef, useState } from 'react';
import { describeTransfer, type JobProgress, type LogEntry } from '@opsc/contracts';
import { clock } from '../../lib/format';
import { latestTransfers } from '../../lib/transfers';
import type { OutputLine } from '@opsc/contracts/api';

type Row = {
  key: string;
  at: string;
  target: string;
  stepId: string;
  kind: 'event' | 'stdout' | 'stderr' | 'progress';
  level: string;
  text: string;
};

/** Rows kept on screen; older ones stay counted and filterable, not drawn. */
const DRAW = 2_000;

/** Output lines from the targets and the job's own events, merged by time, filterable by target and step. */
export const LiveLog = ({
  lines,
  progress,
  state,
}: {
  lines: OutputLine[];
  progress: JobProgress | null;
  state: string;
}) => {
  const [target, setTarget] = useState('');
  const [step, setStep] = useState('');
  const [showEvents, setShowEvents] = useState(true);
  const [follow, setFollow] = useState(true);
  const box = useRef<HTMLDivElement>(null);

  const rows = useMemo(() => {
    const events: Row[] = showEvents
      ? (progress?.logs ?? []).map((l: LogEntry, i) => ({
          key: `e${i}-${l.at}`,
          at: l.at,
          target: l.target ?? '',
          stepId: l.stepId ?? '',
          kind: 'event',
          level: l.level,
          text: l.message,
        }))
      : [];
    const out: Row[] = lines.flatMap((l) =>
      l.stream === 'progress'
        ? []
        : [
            {
              key: `l${l.seq}`,
              at: l.at,
              target: l.target,
              stepId: l.stepId,
              kind: l.stream,
              level: l.stream === 'stderr' ? 'warn' : 'info',
              text: l.line,
            },
          ],
    );
    // A copy's bytes so far: one row per transfer, its latest report ("Copying file… (23.1 MB of 45.2 MB)").
    for (const t of latestTransfers(lines))
      out.push({
        key: `p${t.line.target}-${t.line.stepId}-${t.line.attempt}-${t.line.rerun ?? 0}`,
        at: t.line.at,
        target: t.line.target,
        stepId: t.line.stepId,
        kind: 'progress',
        level: 'info',
        text: `${t.sent < t.total ? '▶' : '✓'} ${describeTransfer(t)}`,
      });
    const all = [...out, ...events].filter(
      (r) => (!target || r.target === target) && (!step || r.stepId === step || r.stepId.startsWith(`${step}.`)),
    );
    return all.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  }, [lines, progress?.logs, target, step, showEvents]);

  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [rows, follow]);

  const drawn = rows.slice(-DRAW);
  return (
    <section className="panel" aria-label="Live log">
      <div className="row log-head">
        <h3>Live log</h3>
        <span className={`badge stream-${state}`} data-testid="stream-state">
          {state === 'live' ? '● live' : state}
        </span>
        <span className="spacer" />
        <label className="inline">
          Target
          <select value={target} onChange={(e) => setTarget(e.target.value)} data-testid="log-target">
            <option value="">all</option>
            {(progress?.targets ?? []).map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <label className="inline">
          Step
          <select value={step} onChange={(e) => setStep(e.target.value)} data-testid="log-step">
            <option value="">all</option>
            {(progress?.steps ?? []).map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <label className="inline">
          <input type="checkbox" checked={showEvents} onChange={(e) => setShowEvents(e.target.checked)} /> job events
        </label>
        <label className="inline">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> follow
        </label>
      </div>
      <div
        className="log"
        ref={box}
        tabIndex={0}
        aria-label="Log lines"
        data-testid="live-log"
        data-lines={lines.length}
      >
        {rows.length === 0 && <p className="muted">No output yet.</p>}
        {rows.length > DRAW && (
          <p className="muted small">
            {rows.length - DRAW} earlier lines not drawn; filter by target or step to see them.
          </p>
        )}
        {drawn.map((r) => (
          <div key={r.key} className={`log-row k-${r.kind} l-${r.level}`} data-kind={r.kind}>
            <span className="log-time">{clock(r.at)}</span>
            <span className="log-target">{r.target ? `[${r.target}]` : '[job]'}</span>
            <span className="log-step">{r.stepId}</span>
            <span className="log-text">{r.text}</span>
          </div>
        ))}
      </div>
    </section>
  );
};
