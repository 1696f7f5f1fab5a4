import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

// scrypt with N=2^15, r=8: 32 MiB and ~100 ms per hash, memory-hard against GPU guessing.
const PARAMS = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_BYTES = 32;

const scryptAsync = (password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_BYTES, { ...options, maxmem: 64 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });

/** `scrypt$N$r$p$salt$hash`, base64 parts. */
export const hashPassword = async (password: string): Promise<string> => {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64'), key.toString('base64')].join('$');
};

export const verifyPassword = async (password: string, stored: string): Promise<boolean> => {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64'), { N: Number(n), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
};

// Checked in place of a missing hash (no such user, no password set), so that timing does not tell.
const NO_HASH = `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$AAAAAAAAAAAAAAAAAAAAAA==$AAAA`;

/** Verifies a password against a stored hash, doing the same work when there is none (and answering false). */
export const verifyPasswordOrNothing = async (password: string, stored: string | null): Promise<boolean> => {
  const ok = await verifyPassword(password, stored ?? NO_HASH);
  return stored !== null && ok;
};

/** A bearer secret (API token or session id): shown once, stored only as its SHA-256. */
export const newBearerSecret = (prefix: 'opsc' | 'sess'): string =>
  `${prefix}_${randomBytes(32).toString('base64url')}`;

export const sha256Hex = (value: string): string => createHash('sha256').update(value).digest('hex');
