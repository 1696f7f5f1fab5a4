import type { RolloutPolicies } from '@opsc/contracts';
import { NUMBER, numberOf } from './numbers.js';

/*
 * How the rollout should go, said in the request ("one host at a time", "in batches of 5", "10% at
 * a time", "stop on the first failure"). Read on the masked request, then cut out of it (blanked,
 * so offsets hold) before its steps are read.
 */

const HOSTS = String.raw`(?:(?:hosts?|servers?|targets?|machines?|nodes?|boxes|box|systems?|vms?|instances?)\s+)?`;
const PHRASES = {
  stopOnFailure:
    /\b(?:and\s+)?(?:stop|abort|halt)\s+(?:on|at|after|if)\s+(?:the\s+)?(?:first|any|one)\s+(?:\w+\s+)?(?:fail(?:s|ure|ed)?|errors?)\b/gi,
  percent: new RegExp(
    String.raw`(?:(?<![\w-])-)?\b(\d{1,3})\s*%\s+(?:of\s+(?:the\s+)?(?:hosts|servers|targets|machines|fleet|group)\s+)?(?:at\s+a\s+time|at\s+once|in\s+parallel)\b|\bin\s+batch(?:es)?\s+of\s+(-?\d{1,3})\s*%`,
    'gi',
  ),
  parallel: new RegExp(
    String.raw`(?:(?<![\w-])-)?\b(${NUMBER})\s+${HOSTS}(?:at\s+a\s+time|in\s+parallel|concurrently|at\s+once)\b|\bin\s+batch(?:es)?\s+of\s+(-?(?:${NUMBER}))\b|\bbatch\s+size\s+(?:of\s+)?(-?(?:${NUMBER}))\b|\bmax(?:imum)?\s+(?:of\s+)?(-?(?:${NUMBER}))\s+${HOSTS}(?:at\s+once|in\s+parallel|parallel|concurrently)\b|\b(?:concurrency|parallelism)\s+(?:of\s+)?(-?(?:${NUMBER}))\b`,
    'gi',
  ),
  serial:
    /\b(?:serially|sequentially|one\s+by\s+one|in\s+series|in\s+sequence|one\s+after\s+(?:the\s+)?(?:other|another))\b/gi,
  rollbackAll:
    /\b(?:and\s+)?roll ?back (?:everything|all|every (?:target|server|host))(?:\s+if\s+(?:anything|any\s+\w+)\s+fails)?\b/gi,
  noRollback:
    /\b(?:no|without|don'?t|do not|never)\s+roll(?:ing)?\s?(?:anything\s+|any\s+\w+\s+|them\s+|it\s+)?back\b|\bno\s+rollbacks?\b/gi,
  /** "abort if more than 20% of the servers fail", "if more than 10% fail, ask me before continuing". */
  failShare:
    /\b(?:(abort|stop|halt|ask(?:\s+me)?|pause)\s+)?(?:if|when)\s+more\s+than\s+(\d{1,3})\s*%(?:\s+of\s+(?:the\s+)?(?:\w+\s+)?\w+)?\s+fail(?:s|ed)?(?:,?\s+(abort|stop|halt|ask|pause))?(?:\s+me)?(?:\s+before\s+continuing)?/gi,
  approval: /\b(?:require|requiring|ask\s+for|needs?|with|get)\s+(?:an?\s+|my\s+)?approval(?:\s+anyway)?\b/gi,
  timeout: new RegExp(
    String.raw`\b(?:with\s+)?an?\s+(${NUMBER})[- ]?(second|sec|minute|min|hour)s?\s+timeout(?:\s+(?:per|for\s+each|on\s+each)\s+\w+)?|\btime\s?out\s+(?:of|after)\s+(${NUMBER})\s*(second|sec|minute|min|hour)s?\b`,
    'gi',
  ),
};

const first = (re: RegExp, s: string) => new RegExp(re.source, 'i').exec(s);

/**
 * The policies a (masked) request states. `selectionSize` is how many targets the plan acts on when
 * the inventory sketch knows it (a percentage needs it); `changes` gives a change its safer defaults.
 */
export const readPolicies = (
  masked: string,
  changes: boolean,
  selectionSize: number | undefined,
): { policies: Partial<RolloutPolicies>; notes: string[] } => {
  const p: Partial<RolloutPolicies> = {};
  const notes: string[] = [];
  // A change rollout goes on past a few failed targets, undoing theirs, and asks a person when too many fail.
  if (changes)
    Object.assign(p, { continueOnFailure: true, maxFailPercentage: 20, rollback: 'target', onFailThreshold: 'ask' });
  if (first(PHRASES.stopOnFailure, masked))
    Object.assign(p, { continueOnFailure: false, maxFailPercentage: 0, onFailThreshold: 'abort' });
  // A number below one (or not whole) is not a batch size: 1 (or its whole part) is used, and said.
  const unusable = (phrase: string, n: number, used: string) =>
    notes.push(`"${phrase.trim()}": ${n} is not a usable number of targets at a time, so the plan uses ${used}`);
  const parallel = first(PHRASES.parallel, masked);
  if (parallel) {
    const n = numberOf(parallel.slice(1).find(Boolean)!) * (parallel[0].startsWith('-') ? -1 : 1);
    p.maxParallel = Math.min(1_000, Math.max(1, Math.floor(n)));
    if (n < 1 || !Number.isInteger(n)) unusable(parallel[0], n, String(p.maxParallel));
  }
  const percent = first(PHRASES.percent, masked);
  if (percent) {
    const asked = Number(percent[1] ?? percent[2]) * (percent[0].startsWith('-') ? -1 : 1);
    const share = Math.min(100, Math.max(1, asked));
    if (asked < 1 || asked > 100)
      notes.push(`"${percent[0].trim()}": ${asked}% is not a usable share of the targets, so the plan uses ${share}%`);
    if (selectionSize !== undefined)
      p.maxParallel = Math.min(1_000, Math.max(1, Math.ceil((selectionSize * share) / 100)));
    else
      notes.push(
        `"${percent[0]}" was not applied: how many targets the selection has is not known until it resolves, so the plan keeps its default; set the targets at once on the plan`,
      );
  }
  if (first(PHRASES.serial, masked)) p.maxParallel = 1;
  if (first(PHRASES.rollbackAll, masked)) p.rollback = 'all';
  if (first(PHRASES.noRollback, masked)) p.rollback = 'none';
  const share = first(PHRASES.failShare, masked);
  if (share) {
    const then = (share[1] ?? share[3] ?? 'abort').toLowerCase();
    Object.assign(p, {
      continueOnFailure: true,
      maxFailPercentage: Math.min(100, Number(share[2])),
      onFailThreshold: /^(ask|pause)/.test(then) ? 'ask' : 'abort',
    });
  }
  if (first(PHRASES.approval, masked)) p.approval = 'required';
  const timeout = first(PHRASES.timeout, masked);
  if (timeout) {
    const unit = (timeout[2] ?? timeout[4] ?? 's').toLowerCase();
    const n = numberOf((timeout[1] ?? timeout[3])!);
    p.timeoutSeconds = Math.min(
      86_400,
      Math.max(1, Math.round(n * (unit.startsWith('h') ? 3_600 : unit.startsWith('m') ? 60 : 1))),
    );
  }
  return { policies: p, notes };
};

/** The request and its masked copy with every policy phrase blanked at the same offsets. */
export const cutPolicyPhrases = (text: string, masked: string): { text: string; masked: string } => {
  let t = text;
  let m = masked;
  for (const re of Object.values(PHRASES))
    for (const hit of m.matchAll(new RegExp(re.source, 'gi'))) {
      const blank = ' '.repeat(hit[0].length);
      t = `${t.slice(0, hit.index)}${blank}${t.slice(hit.index + hit[0].length)}`;
      m = `${m.slice(0, hit.index)}${blank}${m.slice(hit.index + hit[0].length)}`;
    }
  return { text: t, masked: m };
};
