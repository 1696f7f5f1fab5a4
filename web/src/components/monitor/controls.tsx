'use client';
import { useState } from 'react';
import Link from 'next/link';
import { isFinalJobStatus, type JobProgress } from '@opsc/contracts';
import type { ControlAnswer } from '@opsc/contracts/api';
import { api } from '../../lib/api';
import { atLeast, useSession } from '../session';

/** Pause, resume, cancel (finish or interrupt), and the mid-run decision; the workflow checks each. */
export const Controls = ({
  jobId,
  status,
  progress,
  onDone,
}: {
  jobId: string;
  status: string;
  progress: JobProgress | null;
  onDone: () => void;
}) => {
  const { user } = useSession();
  const [confirmCancel, setConfirmCancel] = useState(false);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);
  const send = async (action: string, body: Record<string, unknown> = {}) => {
    setBusy(true);
    setNote(null);
    const res = await api<ControlAnswer>(`/jobs/${jobId}/${action}`, { body });
    setBusy(false);
    setConfirmCancel(false);
    setNote(
      res.ok ? { ok: true, text: res.data.message ?? `${action}: done` } : { ok: false, text: res.error.message },
    );
    onDone();
  };
  if (!atLeast(user, 'operator')) return null;
  const live = ['running', 'paused', 'awaiting_decision', 'queued'].includes(status);
  return (
    <div className="controls" data-testid="controls">
      <div className="row">
        {status === 'running' && !progress?.paused && (
          <button type="button" onClick={() => void send('pause')} disabled={busy}>
            Pause
          </button>
        )}
        {(status === 'paused' || progress?.paused) && (
          <button type="button" onClick={() => void send('resume')} disabled={busy}>
            Resume
          </button>
        )}
        {status === 'awaiting_decision' && (
          <>
            <span className="warn-text">{progress?.decision?.reason}</span>
            <button type="button" onClick={() => void send('decide', { choice: 'continue' })} disabled={busy}>
              Continue anyway
            </button>
            <button
              type="button"
              className="danger"
              onClick={() => void send('decide', { choice: 'rollback' })}
              disabled={busy}
            >
              Roll back
            </button>
            <RetryNow
              retry={progress?.decision?.retry}
              busy={busy}
              onRetry={() => void send('decide', { choice: 'retry' })}
            />
          </>
        )}
        {status === 'awaiting_approval' && (
          <>
            <span className="warn-text">Waiting for an approver.</span>
            {atLeast(user, 'approver') && <Link href="/approvals">Review in Approvals</Link>}
            {progress?.approval.requestedBy === user?.username && (
              <button
                type="button"
                onClick={() => void send('reject', { comment: 'withdrawn by the requester' })}
                disabled={busy}
              >
                Withdraw
              </button>
            )}
          </>
        )}
        {live && !confirmCancel && (
          <button
            type="button"
            className="danger"
            onClick={() => setConfirmCancel(true)}
            disabled={busy || progress?.cancelRequested}
          >
            Cancel…
          </button>
        )}
        {confirmCancel && (
          <span className="row confirm" role="group" aria-label="Confirm cancel">
            <span>Cancel this job?</span>
            <button
              type="button"
              className="danger"
              onClick={() => void send('cancel', { mode: 'finish' })}
              disabled={busy}
            >
              Let running steps finish
            </button>
            <button
              type="button"
              className="danger"
              onClick={() => void send('cancel', { mode: 'interrupt' })}
              disabled={busy}
            >
              Interrupt now
            </button>
            <button type="button" onClick={() => setConfirmCancel(false)}>
              Keep running
            </button>
          </span>
        )}
      </div>
      {/* What an accepted control set going ("cancelling", "rolling back") is over once the job is final. */}
      {note && !(note.ok && isFinalJobStatus(status)) && (
        <p className={note.ok ? 'ok-box' : 'error-box'} role="status" data-testid="control-note">
          {note.text}
        </p>
      )}
    </div>
  );
};

/** The question's third answer: run the step's failed targets again now, or why the job does not offer it. */
const RetryNow = ({
  retry,
  busy,
  onRetry,
}: {
  retry: NonNullable<JobProgress['decision']>['retry'];
  busy: boolean;
  onRetry: () => void;
}) => {
  if (!retry) return null;
  if (retry.unavailable)
    return (
      <span className="muted" data-testid="retry-unavailable">
        No retry: {retry.unavailable}
      </span>
    );
  return (
    <button
      type="button"
      data-testid="retry-now-button"
      onClick={onRetry}
      disabled={busy}
      title={`Runs step ${retry.stepId} again on ${retry.targets.join(', ')} (retry ${retry.rerun})`}
    >
      Retry failed targets now ({retry.targets.length})
    </button>
  );
};
