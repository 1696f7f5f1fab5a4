import { describe, expect, it } from 'vitest';
import { HashGate } from './hash-gate.js';

describe('HashGate', () => {
  it('admits up to max at once, half of them from any one source, and refuses the rest at once', () => {
    const gate = new HashGate(4);
    const a1 = gate.tryEnter('a');
    const a2 = gate.tryEnter('a');
    expect(a1 && a2).toBeTruthy();
    expect(gate.tryEnter('a')).toBeUndefined();
    const b1 = gate.tryEnter('b');
    const b2 = gate.tryEnter('b');
    expect(b1 && b2).toBeTruthy();
    expect(gate.tryEnter('c')).toBeUndefined();
    a1!();
    a1!();
    expect(gate.tryEnter('c')).toBeDefined();
    expect(gate.tryEnter('a')).toBeUndefined();
  });

  it('gives a single slot to a source when there is only one or two', () => {
    const gate = new HashGate(1);
    const leave = gate.tryEnter('a');
    expect(gate.tryEnter('b')).toBeUndefined();
    leave!();
    expect(gate.tryEnter('b')).toBeDefined();
  });
});
