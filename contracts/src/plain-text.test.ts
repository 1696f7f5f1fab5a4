import { describe, expect, it } from 'vitest';
import { isStorableText, StorableText, toStorableText } from './plain-text.js';

describe('text PostgreSQL can store', () => {
  it('refuses NUL and unpaired surrogates, and nothing else', () => {
    for (const bad of ['a\u0000b', '\ud800', 'x\ud800y', '\udc00', 'x\udc00', '\udc00\ud800'])
      expect(isStorableText(bad), JSON.stringify(bad)).toBe(false);
    for (const good of ['', 'CHG-42, checked', 'é ü 漢字', '\ud83d\ude80 launch', 'tab\tand\nnewline'])
      expect(isStorableText(good), good).toBe(true);
    expect(StorableText.safeParse('a\u0000').error?.issues[0]?.message).toBe(
      'must not contain NUL characters or unpaired UTF-16 surrogates',
    );
  });

  it('makes any text storable, keeping pairs whole', () => {
    expect(toStorableText('a\u0000b\ud800c\ud83d\ude80\udc00')).toBe('a\ufffdb\ufffdc\ud83d\ude80\ufffd');
    expect(isStorableText(toStorableText('\ud800\ud800\udc00'))).toBe(true);
  });
});
