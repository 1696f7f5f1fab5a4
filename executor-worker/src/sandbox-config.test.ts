import { describe, expect, it } from 'vitest';
import { parseExecutorEnv } from './env.js';
import { sandboxSettings } from './sandbox-config.js';

describe('the sandbox settings', () => {
  it('hide the private key of the Temporal client certificate from local commands, as they hide the vault key', () => {
    // Outside /run (which every sandbox gets empty): a deployment that keeps its keys under /etc or /srv.
    const env = parseExecutorEnv({
      DATABASE_URL: 'postgres://x/y',
      OPSC_VAULT_KEY_FILE: '/srv/opsc/vault/master.pem',
      TEMPORAL_TLS_CA_FILE: '/srv/opsc/temporal/ca.pem',
      TEMPORAL_TLS_CERT_FILE: '/srv/opsc/temporal/executor.pem',
      TEMPORAL_TLS_KEY_FILE: '/srv/opsc/temporal/executor.key',
    });
    const { hidden } = sandboxSettings(env);
    expect(hidden).toEqual(expect.arrayContaining(['/srv/opsc/vault/master.pem', '/srv/opsc/vault']));
    // With that key, a command's output would hand anyone who reads the job a client Temporal trusts.
    expect(hidden).toEqual(expect.arrayContaining(['/srv/opsc/temporal/executor.key']));
  });
});
