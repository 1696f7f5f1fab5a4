import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import { OsFamily, RiskLevel, ToolName } from '@opsc/contracts';

/*
 * The planner evaluation corpus: requests as operators type them, each with what a correct answer
 * MUST contain (never the exact plan). One YAML file per category under planning/eval/corpus/;
 * docs/planner-eval.md describes the expectation fields and how each is scored.
 */

/** The corpus's own folder (`planning/eval/corpus/`). */
export const EVAL_CORPUS_DIR = fileURLToPath(new URL('../../eval/corpus/', import.meta.url));

export const CATEGORIES = [
  'seed-scenarios',
  'services',
  'packages',
  'files',
  'backups',
  'commands',
  'scripts',
  'database',
  'diagnostics',
  'power',
  'waits',
  'policies',
  'targets',
  'mixed-os',
  'refusals',
  'prompt-injection',
  'shell-injection',
  'quoted-strings',
  'needs-input',
  'unknown-names',
] as const;
export const Category = z.enum(CATEGORIES);
export type Category = z.infer<typeof Category>;

export const AnswerStatus = z.enum(['ready', 'needs-input', 'invalid', 'refused']);
export type AnswerStatus = z.infer<typeof AnswerStatus>;

/** The expectations whose miss makes a case partial, unless the case lists them in `primary`. */
export const SECONDARY = ['risk', 'approval', 'policies', 'steps', 'missing', 'textIncludes', 'textExcludes'] as const;

const ParamValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);

/** What a correct answer must contain; every field but `status` is optional. */
export const Expectation = z.strictObject({
  /** The proposal's status, or the statuses any of which is correct. */
  status: z.union([AnswerStatus, z.array(AnswerStatus).min(1)]),
  /** Tools that must appear in this order (other steps may come between) ... */
  tools: z.array(ToolName).optional(),
  /** ... or, with `exactTools`, be the plan's tools exactly. */
  exactTools: z.boolean().optional(),
  /** Tools that must not appear. */
  notTools: z.array(ToolName).optional(),
  /** The plan's overall risk. */
  risk: RiskLevel.optional(),
  /** Whether the plan needs approval. */
  approval: z.boolean().optional(),
  /** Rollout policies the draft must have (only those named). */
  policies: z
    .strictObject({
      maxParallel: z.number().int().min(1).optional(),
      continueOnFailure: z.boolean().optional(),
      maxFailPercentage: z.number().min(0).max(100).optional(),
      onFailThreshold: z.enum(['abort', 'ask']).optional(),
      timeoutSeconds: z.number().int().min(1).optional(),
      retries: z.number().int().min(1).optional(),
      rollback: z.enum(['none', 'target', 'all']).optional(),
      approval: z.enum(['auto', 'required']).optional(),
    })
    .optional(),
  /** The targets the plan's steps resolve to, together (from the fixture inventory). */
  targets: z
    .strictObject({
      /** Exactly the members of this group (of `os` when given). */
      group: z.string().min(1).optional(),
      /** Exactly these targets. */
      names: z.array(z.string().min(1)).min(1).optional(),
      /** At least these targets. */
      includes: z.array(z.string().min(1)).min(1).optional(),
      /** Every target of the inventory (of `os` when given). */
      all: z.literal(true).optional(),
      /** Every target has this OS. */
      os: OsFamily.optional(),
      /** How many targets. */
      count: z.number().int().min(0).optional(),
    })
    .optional(),
  /** Steps that must exist: a step of `tool` whose params equal `params` and contain `contains`. */
  steps: z
    .array(
      z.strictObject({
        tool: ToolName,
        params: z.record(z.string(), ParamValue).optional(),
        contains: z.record(z.string(), z.string().min(1)).optional(),
      }),
    )
    .optional(),
  /** Parameters (or `targets`) the answer must ask for: names found in its missing inputs' paths. */
  missing: z.array(z.string().min(1)).optional(),
  /** Text the answer must show (case-insensitive), e.g. an unknown name and the suggestion. */
  textIncludes: z.array(z.string().min(1)).optional(),
  /** Text the answer must not show. */
  textExcludes: z.array(z.string().min(1)).optional(),
  /** Secondary expectations that are the point of this case: wrong, the case fails (not partial). */
  primary: z.array(z.enum(SECONDARY)).optional(),
});
export type Expectation = z.infer<typeof Expectation>;

export const EvalCase = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,79}$/, { message: 'lower-case letters, digits and -' }),
    request: z.string().trim().min(1).max(4_000),
    /** Why the case is there, for a reader. */
    note: z.string().optional(),
    /** One expectation ... */
    expect: Expectation.optional(),
    /** ... or several, any of which is a correct answer (the best-scoring one counts). */
    anyOf: z.array(Expectation).min(2).optional(),
  })
  .refine((c) => (c.expect === undefined) !== (c.anyOf === undefined), {
    message: 'give exactly one of expect and anyOf',
    path: ['expect'],
  });
export type EvalCase = z.infer<typeof EvalCase> & { category: Category };

const CorpusFile = z.strictObject({ category: Category, cases: z.array(z.unknown()).min(1) });

/** A corpus file that cannot be used: which file, which case, which field, and why. */
export class CorpusError extends Error {
  constructor(
    readonly file: string,
    readonly caseId: string | null,
    readonly field: string,
    reason: string,
  ) {
    super(`${file}: ${caseId ? `case "${caseId}": ` : ''}${field ? `${field}: ` : ''}${reason}`);
    this.name = 'CorpusError';
  }
}

const fieldOf = (issue: z.core.$ZodIssue | undefined) => (issue?.path ?? []).map(String).join('.');

/** Parses one corpus file's text; every error names the file, the case and the field. */
export const parseCorpusFile = (text: string, file: string): EvalCase[] => {
  let doc: unknown;
  try {
    doc = parse(text, { uniqueKeys: true });
  } catch (err) {
    throw new CorpusError(file, null, '', `not YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const parsed = CorpusFile.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CorpusError(file, null, fieldOf(issue), issue?.message ?? 'invalid corpus file');
  }
  const expected = path.basename(file).replace(/\.ya?ml$/, '');
  if (parsed.data.category !== expected)
    throw new CorpusError(file, null, 'category', `"${parsed.data.category}" is in a file named ${expected}.yaml`);
  return parsed.data.cases.map((raw, i) => {
    const id =
      raw && typeof raw === 'object' && typeof (raw as { id?: unknown }).id === 'string'
        ? (raw as { id: string }).id
        : `#${i}`;
    const c = EvalCase.safeParse(raw);
    if (!c.success) {
      const issue = c.error.issues[0];
      throw new CorpusError(file, id, fieldOf(issue), issue?.message ?? 'invalid case');
    }
    return { ...c.data, category: parsed.data.category };
  });
};

/** Loads every `*.yaml` of a corpus folder; case ids are unique across the corpus. */
export const loadCorpus = async (dir: string = EVAL_CORPUS_DIR): Promise<EvalCase[]> => {
  const files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  const cases: EvalCase[] = [];
  const seen = new Map<string, string>();
  for (const f of files) {
    const file = path.join(dir, f);
    for (const c of parseCorpusFile(await readFile(file, 'utf8'), file)) {
      const other = seen.get(c.id);
      if (other) throw new CorpusError(file, c.id, 'id', `the id is used in ${other} too`);
      seen.set(c.id, file);
      cases.push(c);
    }
  }
  return cases;
};
