import { describe, expect, it } from 'vitest';
import { contentTypeProblem } from './json-only.js';

describe('contentTypeProblem', () => {
  it('takes JSON in UTF-8, however the header is spelled', () => {
    for (const ok of [
      'application/json',
      'Application/JSON',
      'application/json; charset=utf-8',
      'application/json;charset="UTF-8"',
      'application/json; foo=bar',
    ]) {
      expect(contentTypeProblem(ok), ok).toBeUndefined();
    }
  });

  it('refuses other media types, other charsets and a malformed header, saying which', () => {
    expect(contentTypeProblem('application/x-www-form-urlencoded')).toMatch(
      /"application\/x-www-form-urlencoded".*JSON in UTF-8 only/,
    );
    expect(contentTypeProblem('text/plain;charset=UTF-8')).toMatch(/"text\/plain"/);
    expect(contentTypeProblem('application/json; charset=latin1')).toMatch(/charset "latin1" is not supported/);
    expect(contentTypeProblem('application/json; charset=utf8')).toMatch(/charset "utf8"/);
    expect(contentTypeProblem('application/json; charset')).toMatch(/malformed/);
    expect(contentTypeProblem('')).toMatch(/of no media type/);
  });
});
