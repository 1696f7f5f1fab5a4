import { describe, expect, it } from 'vitest';
import { sealSecret, sealedFingerprint, SealedSecret } from '@opsc/contracts/sealing';
import { createKeyring, generateMasterKey, openSecret, rewrapSecret, VaultError } from './keyring.js';

const context = 'tenant-1/cred-1';

describe('vault envelope encryption', () => {
  it('opens what was sealed with the public key, and the sealed form hides the value', () => {
    const { pem, key } = generateMasterKey();
    const sealed = sealSecret('s3cr3t-password', key, context);
    expect(SealedSecret.parse(sealed)).toEqual(sealed);
    expect(JSON.stringify(sealed)).not.toContain('s3cr3t');
    expect(openSecret(sealed, createKeyring([pem]), context)).toBe('s3cr3t-password');
    // A fresh data key and IVs every time.
    expect(sealSecret('s3cr3t-password', key, context).ciphertext).not.toBe(sealed.ciphertext);
    expect(sealedFingerprint(sealed)).toMatch(/^sealed:[0-9a-f]{16}$/);
  });

  it('refuses another credential context, a tampered value and a foreign key', () => {
    const { pem, key } = generateMasterKey();
    const keyring = createKeyring([pem]);
    const sealed = sealSecret('value', key, context);
    expect(() => openSecret(sealed, keyring, 'tenant-1/cred-2')).toThrow(VaultError);
    const flipped = Buffer.from(sealed.ciphertext, 'base64');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(() => openSecret({ ...sealed, ciphertext: flipped.toString('base64') }, keyring, context)).toThrow(
      /tampered/,
    );
    expect(() => openSecret(sealed, createKeyring([generateMasterKey().pem]), context)).toThrow(/does not hold/);
  });

  it('rotates: re-wrapped secrets open with the new key alone, and the old key no longer opens them', () => {
    const old = generateMasterKey();
    const next = generateMasterKey();
    const sealed = sealSecret('rotate me', old.key, context);
    const during = createKeyring([next.pem, old.pem]);
    const rewrapped = rewrapSecret(sealed, during, next.key, context);
    expect(rewrapped.ciphertext).toBe(sealed.ciphertext);
    expect(rewrapped.keyId).toBe(next.key.keyId);
    expect(openSecret(rewrapped, createKeyring([next.pem]), context)).toBe('rotate me');
    expect(() => openSecret(rewrapped, createKeyring([old.pem]), context)).toThrow(VaultError);
    // Forging the key id does not help the old key either.
    expect(() => openSecret({ ...rewrapped, keyId: old.key.keyId }, createKeyring([old.pem]), context)).toThrow(
      VaultError,
    );
  });

  it('explains a bad master key without echoing it', () => {
    expect(() => createKeyring(['-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----'])).toThrow(
      'the vault master key is not a PKCS#8 PEM private key',
    );
    expect(() => createKeyring([])).toThrow('no vault master key configured');
  });
});
