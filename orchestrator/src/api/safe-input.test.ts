import { describe, expect, it } from 'vitest';
import { jsonProblem, MAX_JSON_DEPTH, textProblem } from './safe-input.js';

describe('textProblem', () => {
  it('refuses NUL and lone surrogates, and lets paired surrogates (emoji) and other controls pass', () => {
    expect(textProblem('a\u0000b')).toMatch(/NUL/);
    expect(textProblem('a\ud800')).toMatch(/lone UTF-16 surrogate/);
    expect(textProblem('\udc00a')).toMatch(/lone UTF-16 surrogate/);
    expect(textProblem('\udc00\ud800')).toMatch(/lone/);
    expect(textProblem('deploy 🚀 now\t\n\u0001')).toBeUndefined();
  });
});

describe('jsonProblem', () => {
  it('names the first value or key at fault by its dotted path, in document order', () => {
    expect(jsonProblem({ plan: { steps: [{ name: 'ok' }, { name: 'x\u0000' }] }, z: '\u0000' })).toEqual({
      path: 'plan.steps.1.name',
      message: 'must not contain NUL (U+0000)',
    });
    expect(jsonProblem({ a: { 'k\u0000y': 1 } })).toEqual({
      path: 'a.k\\u0000y',
      message: '(a key) must not contain NUL (U+0000)',
    });
    expect(jsonProblem({ q: ['a', 'b\ud800'] }, 'query')?.path).toBe('query.q.1');
    expect(jsonProblem('\u0000')?.path).toBe('body');
    expect(jsonProblem({ fine: ['🚀', 1, null, true, { deep: 'text' }] })).toBeUndefined();
  });

  it(`refuses nesting past ${MAX_JSON_DEPTH} levels, however deep, without recursion`, () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    const issue = jsonProblem({ draft: deep });
    expect(issue?.message).toBe(`is nested deeper than ${MAX_JSON_DEPTH} levels`);
    expect(issue?.path).toBe(`draft${'.0'.repeat(MAX_JSON_DEPTH - 1)}`);
    let fits: unknown = 'leaf';
    for (let i = 0; i < MAX_JSON_DEPTH; i++) fits = { a: fits };
    expect(jsonProblem(fits)).toBeUndefined();
    expect(jsonProblem({ a: fits })?.message).toMatch(/nested deeper/);
  });
});
