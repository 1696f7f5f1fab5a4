import { z } from 'zod';
import type { Action } from './plan.js';
import type { ActionOutput } from './results.js';

/*
 * What a step did on each target, as a fact from a closed set ("running", "backup created",
 * "copied"), so a step's row can say "18 running, 7 stopped" rather than only "25/25 complete".
 * A fact is derived from the step's own typed result: the operation the plan names and the facts
 * its script reports, each value matched against a closed set (never free output a target prints).
 */

/** One character per fact, kept per step and target; ' ' is no fact. */
export const OutcomeFact = {
  running: 'R',
  stopped: 'S',
  backup: 'B',
  copied: 'C',
  fetched: 'F',
  restored: 'E',
  updated: 'U',
  unchanged: 'N',
  rebooted: 'T',
  none: ' ',
} as const;
export type OutcomeFactCode = (typeof OutcomeFact)[keyof typeof OutcomeFact];
export const OutcomeFactName = z.enum([
  'running',
  'stopped',
  'backup',
  'copied',
  'fetched',
  'restored',
  'updated',
  'unchanged',
  'rebooted',
]);
export type OutcomeFactName = z.infer<typeof OutcomeFactName>;

/** A step's facts over its targets, in the progress: how many targets each fact holds for, and the sizes moved. */
export const StepFacts = z.object({
  counts: z.partialRecord(OutcomeFactName, z.number().int().min(0)),
  /** A copy or fetch: the smallest and largest file moved, in bytes. */
  bytes: z.object({ min: z.number().int().min(0), max: z.number().int().min(0) }).optional(),
});
export type StepFacts = z.infer<typeof StepFacts>;

const RUNNING = new Set(['active', 'Running', 'true']);
const STOPPED = new Set(['inactive', 'failed', 'Stopped', 'false']);
const SIZE = /^\d{1,15}$/;

/** The fact a successful run of `action` establishes, from its typed result; `none` when it states none. */
export const outcomeFactOf = (action: Action, output: ActionOutput | undefined): OutcomeFactCode => {
  if ((action.method !== 'ssh' && action.method !== 'winrm') || output?.kind !== 'command') return OutcomeFact.none;
  const facts = output.facts ?? {};
  switch (action.operation.op) {
    case 'service':
    case 'service-wait':
    case 'service-check':
    case 'process-check': {
      const state = facts.state ?? facts.running ?? '';
      return RUNNING.has(state) ? OutcomeFact.running : STOPPED.has(state) ? OutcomeFact.stopped : OutcomeFact.none;
    }
    case 'config-backup':
      return facts.archive ? OutcomeFact.backup : OutcomeFact.none;
    case 'file-copy':
      return OutcomeFact.copied;
    case 'file-fetch':
      return OutcomeFact.fetched;
    case 'file-restore':
    case 'config-restore':
      return OutcomeFact.restored;
    case 'package':
      return facts.version === undefined
        ? OutcomeFact.none
        : facts.version === facts.previous_version
          ? OutcomeFact.unchanged
          : OutcomeFact.updated;
    case 'reboot':
      return facts.boot_id || facts.boot_time ? OutcomeFact.rebooted : OutcomeFact.none;
    default:
      return OutcomeFact.none;
  }
};

/** The size a copy, fetch or backup reports (`bytes`), or undefined. */
export const outcomeBytesOf = (output: ActionOutput | undefined): number | undefined => {
  const bytes = output?.kind === 'command' ? output.facts?.bytes : undefined;
  return bytes !== undefined && SIZE.test(bytes) ? Number(bytes) : undefined;
};

const NAME_OF_CODE = new Map<string, OutcomeFactName>(
  Object.entries(OutcomeFact).flatMap(([name, code]) => (code === ' ' ? [] : [[code, name as OutcomeFactName]])),
);

/**
 * Counts a step's row of fact characters (one per target); undefined when no target has a fact. A
 * target whose change was undone (`undone(t)`: its cell is rolled back) no longer has its fact: a
 * rolled-back copy is not "copied".
 */
export const stepFactsOf = (
  row: string | undefined,
  bytes?: { min: number; max: number },
  undone: (target: number) => boolean = () => false,
): StepFacts | undefined => {
  if (!row) return undefined;
  const counts: Partial<Record<OutcomeFactName, number>> = {};
  for (const [t, c] of [...row].entries()) {
    if (undone(t)) continue;
    const name = NAME_OF_CODE.get(c);
    if (name) counts[name] = (counts[name] ?? 0) + 1;
  }
  if (Object.keys(counts).length === 0) return undefined;
  return { counts, ...(bytes && { bytes: { ...bytes } }) };
};

/** Bytes as the seed shows them: "45.2 MB" (decimal units). */
export const formatBytes = (n: number): string => {
  if (n < 1_000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1_000;
  let u = 0;
  while (v >= 1_000 && u < units.length - 1) {
    v /= 1_000;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
};

const PHRASE: Record<OutcomeFactName, (n: number) => string> = {
  running: (n) => `${n} running`,
  stopped: (n) => `${n} stopped`,
  backup: (n) => `${n} backup${n === 1 ? '' : 's'} created`,
  copied: (n) => `${n} copied`,
  fetched: (n) => `${n} fetched`,
  restored: (n) => `${n} restored`,
  updated: (n) => `${n} updated`,
  unchanged: (n) => `${n} already up to date`,
  rebooted: (n) => `${n} rebooted`,
};

/** "18 running, 7 stopped", "25 backups created", "25 copied (45.2 MB each)". */
export const describeStepFacts = (facts: StepFacts): string =>
  OutcomeFactName.options
    .flatMap((name) => {
      const n = facts.counts[name];
      if (!n) return [];
      const b = facts.bytes;
      const size =
        b && (name === 'copied' || name === 'fetched' || name === 'backup')
          ? b.min === b.max
            ? ` (${formatBytes(b.max)}${n > 1 ? ' each' : ''})`
            : ` (${formatBytes(b.min)} to ${formatBytes(b.max)})`
          : '';
      return [PHRASE[name](n) + size];
    })
    .join(', ');

/*
 * A file transfer's progress, as the executor writes it to the live output (stream `progress`):
 * `upload <sent>/<total> bytes <elapsed> ms` (or `download …`). Only the executor writes that
 * stream; it carries byte counts, never names or content.
 */
export interface TransferProgress {
  direction: 'upload' | 'download';
  sent: number;
  total: number;
  elapsedMs: number;
}

export const transferProgressLine = (p: TransferProgress): string =>
  `${p.direction} ${p.sent}/${p.total} bytes ${p.elapsedMs} ms`;

const TRANSFER_LINE = /^(upload|download) (\d{1,15})\/(\d{1,15}) bytes (\d{1,12}) ms$/;

/** Reads a `progress` line back; null for anything else. */
export const parseTransferProgress = (line: string): TransferProgress | null => {
  const m = TRANSFER_LINE.exec(line);
  if (!m) return null;
  return { direction: m[1] as 'upload' | 'download', sent: Number(m[2]), total: Number(m[3]), elapsedMs: Number(m[4]) };
};

/** "Copying file… (23.1 MB of 45.2 MB, 3.8 MB/s)", or "File sent (45.2 MB in 12.3 s)" once all is sent. */
export const describeTransfer = (p: TransferProgress): string => {
  const seconds = p.elapsedMs / 1000;
  if (p.sent >= p.total)
    return `${p.direction === 'upload' ? 'File sent' : 'File fetched'} (${formatBytes(p.total)} in ${seconds.toFixed(1)} s)`;
  const rate = seconds >= 0.2 ? `, ${formatBytes(Math.round(p.sent / seconds))}/s` : '';
  return `${p.direction === 'upload' ? 'Copying file' : 'Fetching file'}… (${formatBytes(p.sent)} of ${formatBytes(p.total)}${rate})`;
};
