import { describe, expect, it } from 'vitest';
import { normalOrigin } from './same-origin.js';

describe('normalOrigin', () => {
  it('reads an Origin header as browsers send it, and nothing else', () => {
    expect(normalOrigin('http://127.0.0.1:3000')).toBe('http://127.0.0.1:3000');
    expect(normalOrigin('HTTP://LocalHost:3000')).toBe('http://localhost:3000');
    expect(normalOrigin('https://ops.example.test:443')).toBe('https://ops.example.test');
    expect(normalOrigin('null')).toBeUndefined();
    expect(normalOrigin('http://127.0.0.1:3000.evil.example.test')).toBeUndefined();
    expect(normalOrigin('file:///etc/passwd')).toBeUndefined();
  });
});
