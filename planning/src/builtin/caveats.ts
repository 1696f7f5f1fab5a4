import { NUMBER } from './numbers.js';

/*
 * What a plan cannot carry out as said, named to the operator: a condition ("restart postgresql if the
 * queue is empty") and a repetition or a time ("every 5 minutes", "hourly", "tonight"). A plan's steps
 * run once, on every target, unconditionally, when it is started. A change guarded by a condition is
 * refused (run unconditionally it would do what the operator ruled out); a read with one, and any
 * repetition, is planned with a note saying what was not used. Read on the masked request, after
 * the rollout policy phrases ("stop on the first failure") are cut out.
 */

/** "if", "unless", "only when", "in case": a condition, up to the clause's end. */
const CONDITION = /\b(?:only\s+(?:if|when)|if|unless|in\s+case)\b[^,;.\n]*/gi;
/** "check if", "see if", "tell me if": a question about state, not a condition on a step. */
const ASKING =
  /\b(?:check|checking|see|find\s+out|tell\s+(?:me|us)|let\s+(?:me|us)\s+know|verify|confirm|determine|test|ask|know|show(?:\s+me)?|report|wonder|look)\s*$/i;
const TARGETS = String.raw`(?:servers?|hosts?|targets?|machines?|nodes?|boxes|box|vms?|steps?|jobs?|rollout|deploy(?:ment)?|update|upgrade|restart|one|ones)`;
/** "if anything fails", "keep going if a server fails": how the rollout meets a failure, said as a policy. */
const ON_FAILURE = new RegExp(
  String.raw`^(?:if|in\s+case)\s+(?:anything|something|it|they|(?:a|an|any|one|some|the|more\s+than\s+\S+|\d+\s*%?)(?:\s+of)?(?:\s+(?:the|them|those|these))?(?:\s+${TARGETS})?)\s+(?:fails?|failed|errors?|goes\s+wrong|breaks)\b`,
  'i',
);

/** The conditions a (masked) request states, as the request wrote them. */
export const conditionsIn = (text: string, masked: string): string[] => {
  const found: string[] = [];
  for (const hit of masked.matchAll(CONDITION)) {
    if (ASKING.test(masked.slice(Math.max(0, hit.index - 40), hit.index))) continue;
    if (ON_FAILURE.test(hit[0])) continue;
    found.push(text.slice(hit.index, hit.index + hit[0].trimEnd().length));
  }
  return found;
};

export const conditionRefusal = (condition: string): string =>
  `I can't make a step conditional: "${condition}" is a condition on a change, and the built-in planner's steps run once on every target, unconditionally. Check the condition first with a read-only plan, then ask for the change on its own; or put the check and the change in one script in backticks (a script needs approval).`;

export const conditionNote = (condition: string): string =>
  `not used: "${condition}": the plan runs every step once, unconditionally; it does not check a condition first`;

const UNIT = String.raw`(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|nights?|weeks?|months?|mornings?|evenings?|weekdays?|(?:mon|tues|wednes|thurs|fri|satur|sun)days?)`;
/** "every 5 minutes", "hourly", "twice a day", "tonight", "at 3am": a schedule the plan does not keep. */
const SCHEDULE = new RegExp(
  String.raw`\b(?:every|each)\s+(?:other\s+)?(?:(?:${NUMBER})\s+)?${UNIT}\b|\b(?:hourly|daily|nightly|weekly|monthly|periodically|regularly|on\s+a\s+schedule)\b|\b(?:once|twice|(?:${NUMBER})\s+times)\s+(?:a|an|per|every)\s+(?:minute|hour|day|night|week|month)\b|\b(?:tonight|tomorrow(?:\s+(?:morning|night|evening))?)\b|\bat\s+(?:\d{1,2}(?::\d{2})?\s*(?:am|pm)|\d{1,2}:\d{2}|midnight|noon)\b`,
  'gi',
);

/** A note for every repetition or time the (masked) request states. */
export const scheduleNotes = (text: string, masked: string): string[] =>
  [...masked.matchAll(SCHEDULE)].map(
    (hit) =>
      `not used: "${text.slice(hit.index, hit.index + hit[0].length)}": the plan runs once, when it is started; schedules are not supported yet, so start it again when it should run again`,
  );
