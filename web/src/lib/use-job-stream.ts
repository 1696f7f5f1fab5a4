'use client';
import { useEffect, useRef, useState } from 'react';
import type { JobProgress } from '@opsc/contracts';
import type { OutputLine, StreamEnd } from '@opsc/contracts/api';

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'ended';

interface Handlers {
  onProgress(progress: JobProgress): void;
  /** Lines in order, each once, in batches (a busy job prints thousands a second). */
  onLines(lines: OutputLine[]): void;
  onEnd(status: string | null): void;
}

/** Longest wait between two reconnect attempts after the stream failed for good. */
const MAX_BACKOFF_MS = 10_000;
const FLUSH_MS = 150;

/**
 * A job's live events over SSE. The browser's EventSource reconnects by itself and sends
 * Last-Event-ID, so the API resumes after the last line received; when the stream fails for good
 * (the API or the proxy answered an error), a new one is opened with `?lastEventId=` and a backoff.
 * Lines are kept once each, in sequence order, whatever the reconnects.
 */
export const useJobStream = (jobId: string, handlers: Handlers): StreamState => {
  const [state, setState] = useState<StreamState>('connecting');
  const ref = useRef(handlers);
  ref.current = handlers;

  useEffect(() => {
    let source: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    let lastSeq = 0;
    let failures = 0;
    let pending: OutputLine[] = [];
    const flush = setInterval(() => {
      if (pending.length === 0) return;
      const batch = pending;
      pending = [];
      ref.current.onLines(batch);
    }, FLUSH_MS);

    const open = () => {
      const es = new EventSource(
        `/api/jobs/${encodeURIComponent(jobId)}/events${lastSeq ? `?lastEventId=${lastSeq}` : ''}`,
      );
      source = es;
      es.onopen = () => {
        failures = 0;
        setState('live');
      };
      es.addEventListener('progress', (e) =>
        ref.current.onProgress(JSON.parse((e as MessageEvent<string>).data) as JobProgress),
      );
      es.addEventListener('log', (e) => {
        const line = JSON.parse((e as MessageEvent<string>).data) as OutputLine;
        if (line.seq <= lastSeq) return;
        lastSeq = line.seq;
        pending.push(line);
      });
      es.addEventListener('end', (e) => {
        stopped = true;
        es.close();
        if (pending.length) {
          ref.current.onLines(pending);
          pending = [];
        }
        setState('ended');
        ref.current.onEnd((JSON.parse((e as MessageEvent<string>).data) as StreamEnd).status);
      });
      es.onerror = () => {
        if (stopped) return;
        setState('reconnecting');
        if (es.readyState === EventSource.CLOSED) {
          retry = setTimeout(open, Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** failures));
          failures += 1;
        }
      };
    };
    open();
    return () => {
      stopped = true;
      clearTimeout(retry);
      clearInterval(flush);
      source?.close();
    };
  }, [jobId]);

  return state;
};
