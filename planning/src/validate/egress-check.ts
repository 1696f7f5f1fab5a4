import { hostVerdict, localCommandProfile, urlVerdict, type EgressPolicy, type Step } from '@opsc/contracts';

/** No tenant rule and no known platform service: loopback, link-local and metadata are refused. */
export const CLOSED_EGRESS: EgressPolicy = { allow: [], platform: [] };

/** A destination a step would reach that the policy refuses, and why. */
export interface EgressProblem {
  /** `url` for an http step; `host` for a network diagnostic's destination. */
  kind: 'url' | 'host';
  value: string;
  message: string;
}

/**
 * What a planner may propose obeys the executor's egress policy: an http step's URL and a network
 * diagnostic's destinations are judged before any DNS. Names are judged again at connect time.
 */
export const egressProblems = (step: Step, policy: EgressPolicy): EgressProblem[] => {
  const { action } = step;
  if (action.method === 'http') {
    const verdict = urlVerdict(action.url, policy);
    return verdict.allowed ? [] : [{ kind: 'url', value: action.url, message: verdict.message }];
  }
  if (action.method === 'local-command') {
    const destinations = localCommandProfile(action.command, action.args).destinations ?? [];
    return destinations.flatMap((host) => {
      const verdict = hostVerdict(host, null, policy);
      return verdict.allowed ? [] : [{ kind: 'host' as const, value: host, message: verdict.message }];
    });
  }
  return [];
};
