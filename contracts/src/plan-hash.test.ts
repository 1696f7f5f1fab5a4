import { describe, expect, it } from 'vitest';
import { canonicalJson, planHash } from './plan-hash.js';

describe('planHash', () => {
  it('ignores key order and undefined fields, and sees every value', () => {
    const a = { name: 'p', steps: [{ id: 's', action: { method: 'http', url: 'http://x' } }] };
    const b = { steps: [{ action: { url: 'http://x', method: 'http' }, id: 's' }], name: 'p', extra: undefined };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(planHash(a)).toBe(planHash(b));
    expect(planHash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(planHash({ ...a, name: 'q' })).not.toBe(planHash(a));
  });
});
