import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '@opsc/dev';
import { describe, expect, it } from 'vitest';

/**
 * The part of docs/workflow-versioning.md a program can check: every patch id the workflow code
 * uses is listed in the doc's table with the state the code is in, and none is used twice.
 */

const DOC = path.join(REPO_ROOT, 'docs', 'workflow-versioning.md');
const WORKFLOWS = path.join(REPO_ROOT, 'workflows', 'src');

type State = 'patched' | 'deprecated' | 'removed';

/** `patched('id')` and `deprecatePatch('id')` calls in the workflow sources (tests left out), by id. */
const patchCalls = async (): Promise<{ ids: Map<string, Set<State>>; dynamic: string[] }> => {
  const ids = new Map<string, Set<State>>();
  const dynamic: string[] = [];
  const files = (await readdir(WORKFLOWS, { recursive: true })).filter(
    (f) => f.endsWith('.ts') && !f.endsWith('.test.ts'),
  );
  for (const file of files) {
    const text = await readFile(path.join(WORKFLOWS, file), 'utf8');
    for (const m of text.matchAll(/\b(patched|deprecatePatch)\(\s*(['"])([^'"]+)\2\s*\)/g)) {
      const state: State = m[1] === 'patched' ? 'patched' : 'deprecated';
      const id = m[3]!;
      ids.set(id, (ids.get(id) ?? new Set()).add(state));
    }
    // An id that is not a literal cannot be checked against the doc (nor kept stable).
    for (const m of text.matchAll(/\b(patched|deprecatePatch)\(\s*(?!['"])/g)) dynamic.push(`${file}: ${m[0]}`);
  }
  return { ids, dynamic };
};

/** Rows of the doc's "Patches" table: `| \`id\` | state | ... |`. */
const listedPatches = async (): Promise<{ rows: [string, State][]; hasTable: boolean }> => {
  const text = await readFile(DOC, 'utf8');
  const section = text.split(/^## /m).find((s) => s.startsWith('Patches')) ?? '';
  const rows = [...section.matchAll(/^\|\s*`([^`]+)`\s*\|\s*(patched|deprecated|removed)\s*\|/gm)].map(
    (m) => [m[1]!, m[2] as State] as [string, State],
  );
  return { rows, hasTable: /^\|\s*Patch id\s*\|/m.test(section) };
};

describe('workflow versioning', () => {
  it('the doc has its table of patch ids', async () => {
    expect((await listedPatches()).hasTable).toBe(true);
  });

  it('patch ids in the workflow code are string literals', async () => {
    expect((await patchCalls()).dynamic).toEqual([]);
  });

  it('every patch id in the workflow code is listed in the doc, in the state the code is in', async () => {
    const { ids } = await patchCalls();
    const { rows } = await listedPatches();
    const listed = new Map(rows);
    const problems: string[] = [];
    for (const [id, states] of ids) {
      const state = listed.get(id);
      if (!state) problems.push(`${id}: used in workflows/src, not listed in docs/workflow-versioning.md`);
      else if (states.size > 1) problems.push(`${id}: both patched() and deprecatePatch() in the code`);
      else if (!states.has(state))
        problems.push(`${id}: the doc says ${state}, the code has ${[...states].join(', ')}`);
    }
    for (const [id, state] of rows)
      if (state !== 'removed' && !ids.has(id))
        problems.push(`${id}: the doc says ${state}, the code no longer has it (mark it removed)`);
    expect(problems).toEqual([]);
  });

  it('no patch id is listed twice (an id is never reused)', async () => {
    const ids = (await listedPatches()).rows.map(([id]) => id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });
});
