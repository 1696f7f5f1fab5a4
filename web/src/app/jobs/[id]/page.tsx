'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import Link from 'next/link';
import { useParams } from 'next/navigation';
import { isFinalJobStatus, type JobProgress } from '@opsc/contracts';
import { api } from '../../../lib/api';
import { dateTime, shortHash } from '../../../lib/format';
import type { JobDetail, OutputLine, StepResultPage, StepResultView } from '@opsc/contracts/api';
import { useJobStream } from '../../../lib/use-job-stream';
import { RiskBadge, StatusBadge } from '../../../components/badges';
import { OriginNote } from '../../../components/origin';
import { Controls } from '../../../components/monitor/controls';
import { LiveLog } from '../../../components/monitor/live-log';
import { ProgressHeader } from '../../../components/monitor/progress-header';
import { RetryPanel } from '../../../components/monitor/retry-panel';
import { StepList } from '../../../components/monitor/step-list';
import { TargetGrid } from '../../../components/monitor/target-grid';
import { TargetOutput } from '../../../components/monitor/target-output';
import { TraceLink } from '../../../components/monitor/trace-link';

/** Lines kept in the page; a job printing more keeps the newest (the full output stays on each target's results). */
const KEEP_LINES = 50_000;

/** The live job monitor: state from `GET /api/jobs/:id`, then progress and output lines over SSE. */
export default function JobMonitorPage() {
  const { id } = useParams<{ id: string }>();
  const [job, setJob] = useState<JobDetail | null>(null);
  const [error, setError] = useState('');
  const [progress, setProgress] = useState<JobProgress | null>(null);
  const [lines, setLines] = useState<OutputLine[]>([]);
  const [open, setOpen] = useState<{ target: string; stepId: string } | null>(null);
  const [results, setResults] = useState<StepResultView[]>([]);
  const [resultsError, setResultsError] = useState('');
  const [loadingOutput, setLoadingOutput] = useState(false);
  const resultsRequest = useRef(0);
  const [now, setNow] = useState(() => Date.now());

  const load = useCallback(async () => {
    const res = await api<JobDetail>(`/jobs/${encodeURIComponent(id)}`);
    if (!res.ok) {
      setError(res.error.message);
      return;
    }
    setJob(res.data);
    // A snapshot from the stream may be newer than the one in this answer; keep the more advanced.
    setProgress((p) =>
      res.data.progress && (!p || p.status !== res.data.progress.status || !p.finishedAt) ? res.data.progress : p,
    );
  }, [id]);

  useEffect(() => {
    void load();
  }, [load]);
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(t);
  }, []);

  // The job's record again when its status changes: the run's start and end times are the record's
  // (the jobs list's), written as the status turns running and final.
  const progressStatus = progress?.status;
  const recordStatus = job?.status;
  useEffect(() => {
    if (progressStatus && recordStatus && progressStatus !== recordStatus && !isFinalJobStatus(recordStatus))
      void load();
  }, [progressStatus, recordStatus, load]);

  const stream = useJobStream(id, {
    onProgress: setProgress,
    onLines: (batch) =>
      setLines((all) =>
        all.length + batch.length > KEEP_LINES ? [...all, ...batch].slice(-KEEP_LINES) : [...all, ...batch],
      ),
    onEnd: () => void load(),
  });

  /** One target's stored results (its steps and undo actions with their full output), page by page. */
  const loadResults = useCallback(
    async (target: string) => {
      const request = ++resultsRequest.current;
      setLoadingOutput(true);
      const rows: StepResultView[] = [];
      let after: string | null = null;
      let failure = '';
      do {
        const query: URLSearchParams = new URLSearchParams({ target, limit: '200', ...(after && { after }) });
        const res: Awaited<ReturnType<typeof api<StepResultPage>>> = await api<StepResultPage>(
          `/jobs/${encodeURIComponent(id)}/results?${query}`,
        );
        if (!res.ok) {
          failure = res.error.message;
          break;
        }
        rows.push(...res.data.results);
        after = res.data.next?.after ?? null;
      } while (after);
      // An answer for a target the user has since left is dropped.
      if (request !== resultsRequest.current) return;
      if (!failure) setResults(rows);
      setResultsError(failure);
      setLoadingOutput(false);
    },
    [id],
  );

  // The open target's results again whenever one of its cells changes: a step it finished shows its output.
  const openIndex = open && progress ? progress.targets.indexOf(open.target) : -1;
  const openColumn =
    openIndex >= 0 && progress ? progress.steps.map((_, si) => progress.matrix[si]?.[openIndex] ?? ' ').join('') : '';
  useEffect(() => {
    if (open) void loadResults(open.target);
  }, [open, openColumn, loadResults]);

  const openOutput = (target: string, stepId: string) => {
    if (open?.target !== target) setResults([]);
    setOpen({ target, stepId });
  };

  if (error)
    return (
      <p className="error-box" role="alert">
        {error}
      </p>
    );
  if (!job) return <p className="muted">Loading job…</p>;
  // A final record wins over a snapshot taken before it (as the API's own answer does).
  const status = isFinalJobStatus(job.status) ? job.status : (progress?.status ?? job.status);
  const resume = job.retry.resume;
  const doneIn = (target: string, stepId: string) => {
    const id = job.targets.find((t) => t.name === target)?.id ?? (target === 'executor' ? 'executor' : '');
    return resume?.targets[id]?.done[stepId]?.jobId;
  };
  return (
    <div className="monitor" data-testid="job-monitor" data-status={status}>
      <header className="job-head panel">
        <div className="row">
          <h1 data-testid="job-name">{job.name}</h1>
          <StatusBadge status={status} testId="job-status" />
          <RiskBadge risk={job.risk} />
          <span className="spacer" />
          {job.links.temporalUi ? (
            <a href={job.links.temporalUi} target="_blank" rel="noreferrer" data-testid="temporal-link">
              Open in Temporal UI ↗
            </a>
          ) : (
            <span className="small muted" data-testid="temporal-link">
              Temporal workflow <code>{job.id}</code>
            </span>
          )}
          <TraceLink traceId={job.traceId} href={job.links.traceUi} />
        </div>
        {job.request && job.request !== job.name && (
          <p className="job-request" data-testid="job-request">
            “<bdi>{job.request}</bdi>”
          </p>
        )}
        <p className="small muted job-meta">
          <code>{job.id}</code> · requested by <strong>{job.requestedBy}</strong> · {dateTime(job.createdAt)} · plan{' '}
          <code title={job.planHash}>{shortHash(job.planHash)}</code>
          <OriginNote origin={job.origin} />
          {job.mode === 'check' && (
            <>
              {' '}
              · <strong data-testid="job-mode">check mode</strong> (nothing is changed)
            </>
          )}
          {job.targetGroup && (
            <>
              {' '}
              · group <strong>{job.targetGroup}</strong>
            </>
          )}{' '}
          · <Link href={`/jobs?q=${encodeURIComponent(job.name)}`}>history</Link>
        </p>
        {progress?.approval.required && (
          <p className="small" data-testid="approval-line">
            Approval:{' '}
            <StatusBadge
              status={progress.approval.status === 'pending' ? 'awaiting_approval' : progress.approval.status}
            />
            {progress.approval.decidedBy &&
              ` by ${progress.approval.decidedBy} at ${dateTime(progress.approval.decidedAt)}`}
            {progress.approval.comment && ` — “${progress.approval.comment}”`}
          </p>
        )}
        {job.error && (
          <p className="error-box">
            {job.error.type}: {job.error.message}
          </p>
        )}
        {job.progressError && !progress && (
          <p className="note-box">
            Live progress is not available right now ({job.progressError}); showing the stored record.
          </p>
        )}
        <Controls jobId={job.id} status={status} progress={progress} onDone={() => void load()} />
      </header>
      <RetryPanel job={job} />

      {progress ? (
        <>
          <ProgressHeader
            progress={progress}
            now={now}
            status={status}
            plan={job.plan}
            times={{ createdAt: job.createdAt, startedAt: job.startedAt, finishedAt: job.finishedAt }}
          />
          {progress.rollback.failed > 0 && (
            <div className="error-box">
              {progress.rollback.failed} undo action(s) failed — these hosts are half-changed:
              <ul>
                {progress.rollback.failures.map((f) => (
                  <li key={`${f.target}-${f.stepId}`}>
                    {f.target} · {f.stepId}: {f.message}
                  </li>
                ))}
              </ul>
              {(progress.rollback.halfChanged ?? []).length > 0 && (
                <ul>
                  {(progress.rollback.halfChanged ?? []).map((h) => (
                    <li key={h.target}>
                      {h.target}: not undone {h.notUndone.join(', ')}; undone {h.undone.join(', ') || 'nothing'}
                    </li>
                  ))}
                </ul>
              )}
            </div>
          )}
          <div className="monitor-grid">
            <StepList progress={progress} plan={job.plan} />
            <TargetGrid
              progress={progress}
              selected={open?.target ?? null}
              onOpen={openOutput}
              doneIn={doneIn}
              lines={lines}
            />
          </div>
          {open && (
            <TargetOutput
              target={open.target}
              stepId={open.stepId}
              progress={progress}
              results={results}
              error={resultsError}
              lines={lines}
              loading={loadingOutput}
              onClose={() => setOpen(null)}
            />
          )}
        </>
      ) : (
        <p className="muted">Waiting for the job&apos;s first progress…</p>
      )}
      <LiveLog lines={lines} progress={progress} state={stream} />
    </div>
  );
}
