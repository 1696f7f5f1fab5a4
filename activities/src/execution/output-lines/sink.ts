import type { ActionContext } from '@opsc/contracts';

export type OutputStream = 'stdout' | 'stderr';

/** Whose output a line is: one attempt of one step on one target. */
export interface OutputLineKey {
  jobId: string;
  stepId: string;
  targetId: string;
  targetName: string;
  /** The Temporal attempt number (1 for the first). */
  attempt: number;
  /** Which run of the step (decide `retry`): 0 for its first; each re-run's attempts count from 1 again. */
  rerun?: number;
}

/** One step attempt's output while it runs. */
export interface AttemptOutput {
  /** Bytes as they were read from the target; they are cut into lines here. */
  write(stream: OutputStream, chunk: Buffer): void;
  /** Text made on the executor (a transfer summary, query rows), cut into lines like output. */
  writeText(stream: OutputStream, text: string): void;
  /**
   * A progress report made on the executor (`transferProgressLine`), streamed as its own line on
   * the `progress` stream: never redacted or split, not counted against the attempt's line cap
   * (its caller throttles it), never part of the step result.
   */
  progress(line: string): void;
  /**
   * Ends both streams (an unterminated last line is kept) and waits until the attempt's lines are
   * in PostgreSQL or the wait is given up; never rejects. Later writes are ignored.
   */
  close(): Promise<void>;
}

export interface AttemptOutputOptions {
  /** Lines that are not output (fact lines carrying the run's nonce) and must not be streamed. */
  skipLine?: (stream: OutputStream, line: string) => boolean;
  /** Rewrites each whole line before it is streamed (the executor's secrets out). */
  redact?: (line: string) => string;
}

/** Streams output lines to where live logs read them, as the executor reads them from targets. */
export interface OutputLineSink {
  open(key: OutputLineKey, options?: AttemptOutputOptions): AttemptOutput;
}

/** A sink that keeps nothing (tests of other things, or streaming turned off). */
export const discardOutputLines: OutputLineSink = {
  open: () => ({
    write: () => undefined,
    writeText: () => undefined,
    progress: () => undefined,
    close: async () => undefined,
  }),
};

export const outputLineKey = (context: ActionContext, attempt: number): OutputLineKey => ({
  jobId: context.jobId,
  stepId: context.stepId,
  targetId: context.target.id,
  targetName: context.target.name,
  attempt,
  ...(context.rerun && { rerun: context.rerun }),
});

/** Skips the fact lines (`@@opsc-<nonce> key=value`) a script prints on stdout. */
export const skipFactLines = (nonce: string): AttemptOutputOptions['skipLine'] => {
  const prefix = `@@opsc-${nonce} `;
  return (stream, line) => stream === 'stdout' && line.startsWith(prefix);
};
