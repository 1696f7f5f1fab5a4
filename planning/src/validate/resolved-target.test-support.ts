import type { ResolvedTarget } from '@opsc/contracts';

/** An inventory target as target resolution answers it: SSH on Linux, WinRM (NTLM over HTTP) on Windows. */
export const resolvedTarget = (name: string, os: 'linux' | 'windows'): ResolvedTarget => ({
  id: `id-${name}`,
  name,
  address: '127.0.0.1',
  os,
  tags: [],
  services: [
    os === 'linux'
      ? { protocol: 'ssh', port: 22, credentialId: 'c' }
      : {
          protocol: 'winrm',
          scheme: 'http',
          port: 5985,
          transport: 'ntlm',
          verifyCertificate: true,
          credentialId: 'c',
        },
  ],
});
