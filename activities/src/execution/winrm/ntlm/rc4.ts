/**
 * RC4 as a keystream that continues across calls: NTLM sealing runs one cipher state over every
 * message of a direction. (OpenSSL 3 no longer ships RC4 outside the legacy provider.)
 */
export class Rc4 {
  private readonly s = new Uint8Array(256);
  private i = 0;
  private j = 0;

  constructor(key: Buffer) {
    if (key.length === 0) throw new RangeError('an RC4 key cannot be empty');
    for (let k = 0; k < 256; k += 1) this.s[k] = k;
    let j = 0;
    for (let k = 0; k < 256; k += 1) {
      j = (j + this.s[k]! + key[k % key.length]!) & 0xff;
      [this.s[k], this.s[j]] = [this.s[j]!, this.s[k]!];
    }
  }

  /** Encrypts or decrypts (the same operation), advancing the keystream. */
  update(data: Buffer): Buffer {
    const out = Buffer.alloc(data.length);
    const s = this.s;
    for (let n = 0; n < data.length; n += 1) {
      this.i = (this.i + 1) & 0xff;
      this.j = (this.j + s[this.i]!) & 0xff;
      [s[this.i], s[this.j]] = [s[this.j]!, s[this.i]!];
      out[n] = data[n]! ^ s[(s[this.i]! + s[this.j]!) & 0xff]!;
    }
    return out;
  }
}
