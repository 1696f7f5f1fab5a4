import { describe, expect, it } from 'vitest';
import { LineSplitter } from './line-splitter.js';

/** Feeds the chunks in order and returns every line, the unterminated last one included. */
const split = (chunks: (string | Buffer)[], max?: number): string[] => {
  const s = new LineSplitter(max);
  return [...chunks.flatMap((c) => s.push(Buffer.isBuffer(c) ? c : Buffer.from(c, 'utf8'))), ...s.end()];
};

describe('LineSplitter', () => {
  it('returns lines as the chunks complete them, whatever the chunk boundaries', () => {
    const s = new LineSplitter();
    expect(s.push(Buffer.from('one\ntw'))).toEqual(['one']);
    expect(s.push(Buffer.from('o'))).toEqual([]);
    expect(s.push(Buffer.from('\nthree\nfour\n'))).toEqual(['two', 'three', 'four']);
    expect(s.end()).toEqual([]);
  });

  it('keeps empty lines and flushes an unterminated last line at the end', () => {
    expect(split(['a\n\n', '\nb'])).toEqual(['a', '', '', 'b']);
    expect(split([''])).toEqual([]);
  });

  it('decodes a multi-byte character split across chunks intact', () => {
    const text = Buffer.from('grüße 👋 ok\n', 'utf8');
    const wave = text.indexOf(0xf0);
    // Cut inside ü (2 bytes) and inside the 4-byte emoji.
    const chunks = [
      text.subarray(0, 3),
      text.subarray(3, wave + 1),
      text.subarray(wave + 1, wave + 3),
      text.subarray(wave + 3),
    ];
    expect(split(chunks)).toEqual(['grüße 👋 ok']);
    // One byte at a time.
    expect(split([...text].map((b) => Buffer.from([b])))).toEqual(['grüße 👋 ok']);
  });

  it('ends a line at CRLF, even with the CR and the LF in different chunks', () => {
    expect(split(['dir\r\nfile.txt\r', '\nlast\r\n'])).toEqual(['dir', 'file.txt', 'last']);
    // A lone CR inside a line (a progress bar) stays.
    expect(split(['10%\r20%\n'])).toEqual(['10%\r20%']);
  });

  it('cuts a very long line at the limit, on a character boundary, and skips the rest of it', () => {
    const long = `${'é'.repeat(10)}x${'y'.repeat(100)}`;
    const lines = split([long.slice(0, 50), long.slice(50), '\nnext\n'], 16);
    expect(lines).toEqual(['éééééééé … [line cut at 16 bytes]', 'next']);
    // Also when the whole line comes in one chunk, and as the unterminated last line.
    expect(split([`${'a'.repeat(20)}\nb`], 16)).toEqual([`${'a'.repeat(16)} … [line cut at 16 bytes]`, 'b']);
    expect(split([`${'a'.repeat(17)}`], 16)).toEqual([`${'a'.repeat(16)} … [line cut at 16 bytes]`]);
    expect(split([`${'a'.repeat(16)}\r\n`], 16)).toEqual(['a'.repeat(16)]);
  });

  it('keeps memory bounded on endless output without a newline', () => {
    const s = new LineSplitter(1024);
    const out: string[] = [];
    for (let i = 0; i < 1000; i++) out.push(...s.push(Buffer.alloc(4096, 0x61)));
    out.push(...s.push(Buffer.from('\ndone\n')));
    expect(out.map((l) => l.length)).toEqual([1024 + ' … [line cut at 1024 bytes]'.length, 4]);
  });

  it('turns NUL (which PostgreSQL text cannot hold) and invalid UTF-8 into U+FFFD', () => {
    expect(split([Buffer.from([0x61, 0x00, 0x62, 0xff, 0x0a])])).toEqual(['a\uFFFDb\uFFFD']);
  });
});
