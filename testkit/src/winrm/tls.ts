import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runOk } from '../run.js';

/**
 * The fleet's TLS material, made with the openssl CLI: a CA, one server certificate whose IP SANs
 * cover every host address, and a client certificate for WinRM certificate authentication (with
 * the UPN SAN Windows maps to an account). The files exist only while openssl runs: everything is
 * read into memory and the directory removed before this returns.
 */

export interface FleetTls {
  caCertificate: string;
  server: { certificate: string; privateKey: string };
  client: { certificate: string; privateKey: string; fingerprint256: string };
}

const OPENSSL = '/usr/bin/openssl';
const DAYS = '7';
// P-256 keys: generated in milliseconds, accepted by Node, OpenSSL and Python's ssl alike.
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

const serial = (): string => `0x${randomBytes(8).toString('hex')}`;

export const createFleetTls = async (addresses: readonly string[], clientUpn: string): Promise<FleetTls> => {
  const dir = await mkdtemp(path.join(tmpdir(), 'opsc-winrm-tls-'));
  const file = (name: string) => path.join(dir, name);
  try {
    await runOk('create the fleet CA', OPENSSL, [
      'req',
      '-x509',
      ...EC_KEY,
      '-keyout',
      file('ca.key'),
      '-out',
      file('ca.pem'),
      '-days',
      DAYS,
      '-subj',
      '/CN=OpsConductor WinRM fleet CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    const sign = async (name: string, subject: string, extensions: string[]) => {
      await runOk(`create the ${name} key`, OPENSSL, [
        'req',
        '-new',
        ...EC_KEY,
        '-keyout',
        file(`${name}.key`),
        '-out',
        file(`${name}.csr`),
        '-subj',
        subject,
      ]);
      await writeFile(file(`${name}.ext`), `${extensions.join('\n')}\n`);
      await runOk(`sign the ${name} certificate`, OPENSSL, [
        'x509',
        '-req',
        '-in',
        file(`${name}.csr`),
        '-CA',
        file('ca.pem'),
        '-CAkey',
        file('ca.key'),
        '-set_serial',
        serial(),
        '-days',
        DAYS,
        '-sha256',
        '-extfile',
        file(`${name}.ext`),
        '-out',
        file(`${name}.pem`),
      ]);
    };
    const common = ['basicConstraints=critical,CA:FALSE', 'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid'];
    await sign('server', '/CN=winrm-fleet', [
      ...common,
      'keyUsage=critical,digitalSignature,keyAgreement',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${[...addresses.map((a) => `IP:${a}`), 'DNS:localhost'].join(',')}`,
    ]);
    await sign('client', `/CN=${clientUpn.split('@')[0] ?? 'client'}`, [
      ...common,
      'keyUsage=critical,digitalSignature,keyAgreement',
      'extendedKeyUsage=clientAuth',
      `subjectAltName=otherName:1.3.6.1.4.1.311.20.2.3;UTF8:${clientUpn}`,
    ]);
    const read = (name: string) => readFile(file(name), 'utf8');
    const clientCertificate = await read('client.pem');
    return {
      caCertificate: await read('ca.pem'),
      server: { certificate: await read('server.pem'), privateKey: await read('server.key') },
      client: {
        certificate: clientCertificate,
        privateKey: await read('client.key'),
        fingerprint256: new X509Certificate(clientCertificate).fingerprint256,
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};
