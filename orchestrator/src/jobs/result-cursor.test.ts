import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../errors.js';
import { decodeCursor, encodeCursor } from './result-cursor.js';

describe('the results cursor', () => {
  it('comes back as the position it was made from', () => {
    expect(decodeCursor(encodeCursor([3, 'web-1', 'id-1']))).toEqual([3, 'web-1', 'id-1']);
  });

  it('refuses anything else as invalid input naming query.after', () => {
    for (const text of [
      'not base64 json',
      Buffer.from('[0,"a","b"]').toString('base64url'),
      Buffer.from('{"a":1}').toString('base64url'),
    ]) {
      expect(() => decodeCursor(text)).toThrow(InvalidInput);
      try {
        decodeCursor(text);
      } catch (err) {
        expect(err).toMatchObject({
          type: 'ValidationFailed',
          message: 'invalid filter',
          issues: [
            { path: 'query.after', message: 'is not a cursor from an earlier page (pass next.after as it came)' },
          ],
        });
      }
    }
  });
});
