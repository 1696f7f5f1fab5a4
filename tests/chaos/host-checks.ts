import { isFinalJobStatus } from '@opsc/contracts';
import { requestJson, waitForJob, type JobView } from '../support/api.js';

/** What a host's own records say after a job: counted from its change journal, its files and its service. */
export interface HostFacts {
  name: string;
  stops: number;
  starts: number;
  /** The new file moved (or copied) into place. */
  replacements: number;
  /** The original put back from its backup. */
  restores: number;
  version: 'old' | 'new' | 'missing' | 'other';
  /** null when it cannot be known (the host is down). */
  running: boolean | null;
}

/** What the job should end as: every host changed, or every host but the killed one, which the job undoes or declares half-changed. */
export interface Expectation {
  status: 'completed' | 'failed';
  /** The host the fault took away, if any. */
  lost?: string;
}

export const describeExpectation = (e: Expectation): string =>
  e.lost
    ? `${e.status}; ${e.lost} undone or declared half-changed, others changed`
    : `${e.status}; every host changed once`;

/**
 * The invariants, as a list of violations (empty: the run is right): the job ends in the
 * expected state; no host had a change run twice; a completed host has exactly one stop, one
 * replacement and one start, the new version and its service running; a host reported rolled back
 * really is back (old version, running, each change undone); a host left changed is declared so
 * (rollback_failed), never reported as failed or skipped.
 */
export const checkRun = (job: JobView, hosts: readonly HostFacts[], expected: Expectation): string[] => {
  const problems: string[] = [];
  if (job.status !== expected.status) problems.push(`job ${job.status}, expected ${expected.status}`);
  const progress = job.progress;
  if (!progress) return [...problems, 'job has no progress'];
  const outcome = job.outcome?.targets ?? {};
  const declaredHalf = (outcome.rollbackFailed ?? 0) + (job.outcome?.compensationFailures ?? 0) > 0;
  for (const host of hosts) {
    const state = progress.targetStates[progress.targets.indexOf(host.name)] ?? 'absent';
    const say = (what: string) => problems.push(`${host.name} (${state}): ${what}`);
    const counts = `stop ${host.stops}, replace ${host.replacements}, start ${host.starts}, restore ${host.restores}`;
    // An undo may stop a service its step started and start one its step stopped (two of each at
    // most); the file is replaced and restored once at most.
    const undone = state === 'rolled_back' || state === 'rollback_failed';
    const serviceLimit = undone ? 2 : 1;
    if (host.stops > serviceLimit || host.starts > serviceLimit || host.replacements > 1 || host.restores > 1)
      say(`a change ran twice (${counts})`);
    const wanted = host.name === expected.lost ? ['rolled_back', 'rollback_failed'] : ['completed'];
    if (!wanted.includes(state)) say(`expected ${wanted.join(' or ')}`);
    const untouched =
      host.version === 'old' &&
      host.running !== false &&
      host.stops === host.starts &&
      host.replacements === host.restores;
    switch (state) {
      case 'completed':
        if (host.stops !== 1 || host.replacements !== 1 || host.starts !== 1 || host.restores !== 0)
          say(`expected one stop, one replacement and one start (${counts})`);
        if (host.version !== 'new') say(`file is ${host.version}, expected new`);
        if (host.running === false) say('service not running');
        break;
      case 'rolled_back':
        // Reported undone: the host must be as before, each change it had undone.
        if (!untouched)
          say(
            `reported rolled back but is ${host.version}, service ${host.running === false ? 'stopped' : 'running'} (${counts})`,
          );
        break;
      case 'rollback_failed':
        if (!declaredHalf) say('rollback_failed but the outcome counts no failed rollback');
        break;
      default:
        // Failed, skipped, cancelled, or still running: only acceptable when nothing was changed.
        if (!untouched)
          say(
            `left half-changed without a rollback: ${host.version}, service ${host.running === false ? 'stopped' : 'running'} (${counts})`,
          );
    }
  }
  return problems;
};

/**
 * Polls the job until it is final, tolerating an API that is down (its database may be); returns the
 * time it became final, or null at the deadline ("stuck").
 */
export const waitForEnd = async (
  apiUrl: () => string,
  token: string,
  jobId: string,
  deadlineMs: number,
): Promise<{ job: JobView; endedAt: number | null }> => {
  const deadline = Date.now() + deadlineMs;
  let last: JobView | undefined;
  while (Date.now() < deadline) {
    try {
      const { status, body } = await requestJson<Omit<JobView, 'results'>>(`${apiUrl()}/api/jobs/${jobId}`, { token });
      if (status === 200) {
        last = { ...body, results: [] };
        if (isFinalJobStatus(body.status)) {
          const endedAt = Date.now();
          return { job: await waitForJob(apiUrl(), token, jobId, undefined, 60_000), endedAt };
        }
      }
    } catch {
      // The API or its database is down: ask again.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const fallback: JobView = last ?? {
    id: jobId,
    status: 'unknown',
    planHash: '',
    progress: null,
    approval: null,
    events: [],
    outcome: null,
    targets: [],
    results: [],
  };
  return { job: fallback, endedAt: null };
};
