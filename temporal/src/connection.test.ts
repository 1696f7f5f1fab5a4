import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporalConnectionOptions, type TemporalClientEnv } from './connection.js';

const CERTS_SCRIPT = fileURLToPath(new URL('../../scripts/temporal-certs.sh', import.meta.url));
let dir: string;
const file = (name: string) => path.join(dir, name);
const envWith = (extra: Partial<TemporalClientEnv>): TemporalClientEnv => ({
  TEMPORAL_ADDRESS: '127.0.0.1:7233',
  ...extra,
});
const mtls = () => ({
  TEMPORAL_TLS_CA_FILE: file('ca.pem'),
  TEMPORAL_TLS_CERT_FILE: file('orchestrator.pem'),
  TEMPORAL_TLS_KEY_FILE: file('orchestrator.key'),
  TEMPORAL_TLS_SERVER_NAME: 'temporal',
});

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'opsc-temporal-tls-'));
  execFileSync('bash', [CERTS_SCRIPT, dir], { stdio: 'ignore' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a service's connection to Temporal", () => {
  it('is plain without TLS settings (the embedded dev server on loopback)', () => {
    expect(temporalConnectionOptions(envWith({}))).toEqual({ address: '127.0.0.1:7233' });
  });

  it("maps the CA, the client certificate and key, and the server name to the connection's TLS options", () => {
    const options = temporalConnectionOptions(envWith({ TEMPORAL_ADDRESS: 'temporal:7233', ...mtls() }));
    expect(options).toEqual({
      address: 'temporal:7233',
      tls: {
        serverRootCACertificate: readFileSync(file('ca.pem')),
        clientCertPair: { crt: readFileSync(file('orchestrator.pem')), key: readFileSync(file('orchestrator.key')) },
        serverNameOverride: 'temporal',
      },
    });
    // A CA alone: TLS that checks the server, without a client certificate.
    expect(temporalConnectionOptions(envWith({ TEMPORAL_TLS_CA_FILE: file('ca.pem') })).tls).toEqual({
      serverRootCACertificate: readFileSync(file('ca.pem')),
    });
  });

  it('names the variable that is wrong', () => {
    expect(() => temporalConnectionOptions(envWith({ TEMPORAL_TLS_CERT_FILE: file('orchestrator.pem') }))).toThrow(
      /TEMPORAL_TLS_CERT_FILE, TEMPORAL_TLS_KEY_FILE: set both/,
    );
    expect(() => temporalConnectionOptions(envWith({ ...mtls(), TEMPORAL_TLS_KEY_FILE: file('missing.key') }))).toThrow(
      /^TEMPORAL_TLS_KEY_FILE: cannot read .*missing\.key \(ENOENT\)/,
    );
    expect(() => temporalConnectionOptions(envWith({ TEMPORAL_TLS_SERVER_NAME: 'temporal' }))).toThrow(
      /TEMPORAL_TLS_SERVER_NAME: TLS is off/,
    );
  });

  it('presents its client certificate to the frontend, from the API client and from the worker', async () => {
    // A TLS endpoint on loopback that demands a client certificate of the CA, as the frontend does.
    const seen: string[] = [];
    const server = tls.createServer(
      {
        key: readFileSync(file('temporal.key')),
        cert: readFileSync(file('temporal.pem')),
        ca: readFileSync(file('ca.pem')),
        requestCert: true,
        rejectUnauthorized: true,
        ALPNProtocols: ['h2'],
      },
      (socket) => {
        const subject = socket.getPeerCertificate().subject as Record<string, string> | undefined;
        seen.push(subject?.CN ?? '?');
        socket.destroy();
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const options = temporalConnectionOptions(envWith({ TEMPORAL_ADDRESS: `127.0.0.1:${port}`, ...mtls() }));
      // The endpoint speaks no gRPC: both connections fail, after the handshake.
      await expect(Connection.connect({ ...options, connectTimeout: 3_000 })).rejects.toThrow();
      await expect(NativeConnection.connect(options)).rejects.toThrow();
      expect(seen.length).toBeGreaterThanOrEqual(2);
      expect(new Set(seen)).toEqual(new Set(['orchestrator']));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
