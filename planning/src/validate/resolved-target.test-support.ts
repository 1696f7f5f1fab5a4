import type { ResolvedTarget } from '@opsc/contracts';

/**
 * An inventory target as target resolution answers it: SSH on Linux, WinRM (NTLM over HTTP) on
 * Windows; `credential: false`, a service with no credential bound.
 */
export const resolvedTarget = (name: string, os: 'linux' | 'windows', credential = true): ResolvedTarget => ({
  id: `id-${name}`,
  name,
  address: '127.0.0.1',
  os,
  tags: [],
  services: [
    os === 'linux'
      ? { protocol: 'ssh', port: 22, credentialId: credential ? 'c' : null }
      : {
          protocol: 'winrm',
          scheme: 'http',
          port: 5985,
          transport: 'ntlm',
          verifyCertificate: true,
          credentialId: credential ? 'c' : null,
        },
  ],
});
