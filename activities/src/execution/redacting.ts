import { ApplicationFailure } from '@temporalio/common';
import type { ActionOutput } from '@opsc/contracts';
import type { OutputStore } from './output-store.js';
import type { OutputLineSink } from './output-lines/sink.js';
import type { Redactor } from './redaction.js';

/** A store that keeps no executor secret in the outputs and error messages it saves. */
export const redactingStore = (store: OutputStore, redact: Redactor): OutputStore => ({
  saveResult: (r) =>
    store.saveResult({
      ...r,
      stdout: redact(r.stdout),
      stderr: redact(r.stderr),
      ...(r.error && { error: { ...r.error, message: redact(r.error.message) } }),
    }),
});

/** A line sink whose lines are redacted once whole (a secret split over two reads is still one line). */
export const redactingLines = (sink: OutputLineSink, redact: Redactor): OutputLineSink => ({
  open: (key, options = {}) => sink.open(key, { ...options, redact }),
});

const redactOutput = <O extends ActionOutput>(output: O, redact: Redactor): O =>
  output.kind === 'http'
    ? { ...output, body: redact(output.body) }
    : { ...output, stdout: redact(output.stdout), stderr: redact(output.stderr) };

/** An activity whose result and failure message (both land in workflow history) hold no executor secret. */
export const redactingActivity =
  <I, O extends ActionOutput>(activity: (input: I) => Promise<O>, redact: Redactor) =>
  async (input: I): Promise<O> => {
    try {
      return redactOutput(await activity(input), redact);
    } catch (err) {
      if (err instanceof ApplicationFailure && redact(err.message) !== err.message) {
        throw ApplicationFailure.create({
          message: redact(err.message),
          ...(err.type && { type: err.type }),
          nonRetryable: err.nonRetryable === true,
          ...(err.details && { details: err.details }),
        });
      }
      throw err;
    }
  };
