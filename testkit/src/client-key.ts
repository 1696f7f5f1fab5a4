import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { CLIENT_DIR, SHIMS_DIR } from './paths.js';
import { runOk } from './run.js';

/** The client key authorised on every host. */
export interface FleetClientKey {
  /** OpenSSH private key PEM, unencrypted. */
  privateKey: string;
  /** The same key encrypted with `passphrase`. */
  encryptedPrivateKey: string;
  passphrase: string;
  /** `ssh-ed25519 AAAA... comment`, as in authorized_keys. */
  publicKey: string;
}

export interface ClientFiles {
  /** The unencrypted private key, for `ssh -i`. */
  keyFile: string;
  /** SSH_ASKPASS program for keyboard-interactive hosts. */
  askpass: string;
}

/** A fresh ed25519 key pair for this fleet, with an encrypted copy. */
export const createClientKey = async (): Promise<{ key: FleetClientKey; files: ClientFiles }> => {
  await mkdir(CLIENT_DIR, { recursive: true, mode: 0o700 });
  await chmod(CLIENT_DIR, 0o700);
  const keyFile = path.join(CLIENT_DIR, 'id_ed25519');
  const encryptedFile = path.join(CLIENT_DIR, 'id_ed25519.encrypted');
  const askpass = path.join(CLIENT_DIR, 'askpass');
  for (const file of [keyFile, `${keyFile}.pub`, encryptedFile]) await rm(file, { force: true });
  await runOk('generating the fleet client key', 'ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-N',
    '',
    '-C',
    'opsc-fleet-client',
    '-f',
    keyFile,
  ]);
  const passphrase = randomBytes(12).toString('base64url');
  await copyFile(keyFile, encryptedFile);
  await runOk('encrypting the fleet client key', 'ssh-keygen', [
    '-q',
    '-p',
    '-P',
    '',
    '-N',
    passphrase,
    '-f',
    encryptedFile,
  ]);
  await copyFile(path.join(SHIMS_DIR, 'client-askpass'), askpass);
  await chmod(askpass, 0o700);
  const [privateKey, encryptedPrivateKey, publicKey] = await Promise.all(
    [keyFile, encryptedFile, `${keyFile}.pub`].map((file) => readFile(file, 'utf8')),
  );
  return {
    key: {
      privateKey: privateKey ?? '',
      encryptedPrivateKey: encryptedPrivateKey ?? '',
      passphrase,
      publicKey: (publicKey ?? '').trim(),
    },
    files: { keyFile, askpass },
  };
};
