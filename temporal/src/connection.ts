import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';

/** What a service's config says of its connection to Temporal (each service parses it in its env.ts). */
export interface TemporalClientEnv {
  TEMPORAL_ADDRESS: string;
  TEMPORAL_TLS_CA_FILE?: string | undefined;
  TEMPORAL_TLS_CERT_FILE?: string | undefined;
  TEMPORAL_TLS_KEY_FILE?: string | undefined;
  TEMPORAL_TLS_SERVER_NAME?: string | undefined;
}

/** A connection setting that cannot work; the message names the variable. */
export class TemporalConfigError extends Error {}

/**
 * How a service (the API's client and both workers) connects to the Temporal frontend: plain to the
 * embedded dev server on loopback, TLS with the service's client certificate in production (the
 * frontend refuses a client without one). The same options serve `Connection` and `NativeConnection`.
 */
export const temporalConnectionOptions = (
  env: TemporalClientEnv,
  read: (path: string) => Buffer = readFileSync,
): { address: string; tls?: TLSConfig } => {
  const file = (
    name: 'TEMPORAL_TLS_CA_FILE' | 'TEMPORAL_TLS_CERT_FILE' | 'TEMPORAL_TLS_KEY_FILE',
  ): Buffer | undefined => {
    const path = env[name];
    if (path === undefined) return undefined;
    try {
      return read(path);
    } catch (err) {
      throw new TemporalConfigError(
        `${name}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
  };
  if ((env.TEMPORAL_TLS_CERT_FILE === undefined) !== (env.TEMPORAL_TLS_KEY_FILE === undefined)) {
    throw new TemporalConfigError(
      'TEMPORAL_TLS_CERT_FILE, TEMPORAL_TLS_KEY_FILE: set both (the client certificate and its key) or neither',
    );
  }
  const ca = file('TEMPORAL_TLS_CA_FILE');
  const crt = file('TEMPORAL_TLS_CERT_FILE');
  const key = file('TEMPORAL_TLS_KEY_FILE');
  if (!ca && !crt) {
    if (env.TEMPORAL_TLS_SERVER_NAME)
      throw new TemporalConfigError(
        'TEMPORAL_TLS_SERVER_NAME: TLS is off; set TEMPORAL_TLS_CA_FILE or a client certificate too',
      );
    return { address: env.TEMPORAL_ADDRESS };
  }
  return {
    address: env.TEMPORAL_ADDRESS,
    tls: {
      ...(ca && { serverRootCACertificate: ca }),
      ...(crt && key && { clientCertPair: { crt, key } }),
      ...(env.TEMPORAL_TLS_SERVER_NAME && { serverNameOverride: env.TEMPORAL_TLS_SERVER_NAME }),
    },
  };
};
