import { describe, expect, it } from 'vitest';
import { md4 } from './md4.js';
import { Rc4 } from './rc4.js';

describe('md4', () => {
  // The test suite of RFC 1320, appendix A.5.
  it.each([
    ['', '31d6cfe0d16ae931b73c59d7e0c089c0'],
    ['a', 'bde52cb31de33e46245e05fbdbd6fb24'],
    ['abc', 'a448017aaf21d8525fc10ae87aa6729d'],
    ['message digest', 'd9130a8164549fe818874806e1c7014b'],
    ['abcdefghijklmnopqrstuvwxyz', 'd79e1c308aa5bbcdeea8ed63df412da9'],
    ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', '043f8582f241db351ce627e153e7f0e4'],
    [
      '12345678901234567890123456789012345678901234567890123456789012345678901234567890',
      'e33b4ddc9c38f2199c3e7b164fcc0536',
    ],
  ])('hashes %j as RFC 1320 says', (input, digest) => {
    expect(md4(Buffer.from(input, 'ascii')).toString('hex')).toBe(digest);
  });
});

describe('Rc4', () => {
  // Classic vectors (key, plaintext, ciphertext), and one keystream split across calls.
  it.each([
    ['Key', 'Plaintext', 'bbf316e8d940af0ad3'],
    ['Wiki', 'pedia', '1021bf0420'],
    ['Secret', 'Attack at dawn', '45a01f645fc35b383552544b9bf5'],
  ])('encrypts with key %j', (key, plain, cipher) => {
    expect(new Rc4(Buffer.from(key)).update(Buffer.from(plain)).toString('hex')).toBe(cipher);
    const split = new Rc4(Buffer.from(key));
    const whole = Buffer.concat([
      split.update(Buffer.from(plain.slice(0, 3))),
      split.update(Buffer.from(plain.slice(3))),
    ]);
    expect(whole.toString('hex')).toBe(cipher);
  });
});
