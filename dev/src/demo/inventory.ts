import { readFile } from 'node:fs/promises';
import { apiError, type ApiSession } from './api-session.js';
import type { DemoFleets } from './fleets.js';
import { GROUPS, LINUX_HOSTS, WINDOWS_HOSTS } from './seed-shape.js';

const at = (kind: string, name: string) => `/api/${kind}/${encodeURIComponent(name)}`;

/**
 * A credential through the API, which seals it for the vault's public key on arrival. The
 * executor publishes that key when it starts; until it has, the API answers 503 and this waits.
 */
const putCredential = async (admin: ApiSession, credential: { name: string } & Record<string, unknown>) => {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const answer = await admin.request('PUT', at('credentials', credential.name), credential);
    if (answer.status === 200 || answer.status === 201) return;
    if (answer.status !== 503 || Date.now() > deadline)
      throw new Error(`saving credential ${credential.name}: ${apiError(answer)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
};

/**
 * Registers the fleets as inventory through the orchestrator's API (validated, sealed, audited),
 * with PUT so that a second run replaces what the first made: the fleets come up with new
 * passwords, keys and ports each time. Each Linux host's pinned SSH host key is forgotten too,
 * since its sshd made a new one at this start.
 */
export const registerInventory = async (admin: ApiSession, fleets: DemoFleets): Promise<void> => {
  const privateKey = await readFile(fleets.clientKeyFile, 'utf8');
  for (const [index, host] of LINUX_HOSTS.entries()) {
    const fleetHost = fleets.linux[index];
    if (!fleetHost) throw new Error(`the SSH fleet has no host ${index + 1} for ${host.name}`);
    const credential = `${host.name}-ssh`;
    await putCredential(admin, {
      name: credential,
      username: fleetHost.username,
      secret: { kind: 'ssh-key', privateKey, sudoPassword: fleetHost.password },
    });
    await admin.expect(
      'PUT',
      at('inventory/targets', host.name),
      {
        name: host.name,
        address: fleetHost.address,
        os: 'linux',
        tags: ['demo'],
        services: [{ protocol: 'ssh', port: fleetHost.port, credential, hostKeyPolicy: 'accept-new' }],
      },
      [200, 201],
    );
    await admin.expect('DELETE', `${at('inventory/targets', host.name)}/host-key`, undefined, [204, 404]);
  }
  for (const [index, host] of WINDOWS_HOSTS.entries()) {
    const fleetHost = fleets.windows[index];
    if (!fleetHost) throw new Error(`the WinRM fleet has no host ${index + 1} for ${host.name}`);
    const credential = `${host.name}-winrm`;
    await putCredential(admin, {
      name: credential,
      username: `${fleetHost.hostname}\\${fleetHost.username}`,
      metadata: { transport: 'ntlm' },
      secret: { kind: 'winrm', password: fleetHost.password },
    });
    await admin.expect(
      'PUT',
      at('inventory/targets', host.name),
      {
        name: host.name,
        address: fleetHost.address,
        os: 'windows',
        tags: ['demo'],
        // NTLM over HTTP, its messages sealed: how Windows fleets are set up by default.
        services: [{ protocol: 'winrm', scheme: 'http', port: fleetHost.httpPort, transport: 'ntlm', credential }],
      },
      [200, 201],
    );
  }
  for (const group of GROUPS) {
    const targets = [...LINUX_HOSTS, ...WINDOWS_HOSTS].filter((h) => h.groups.includes(group.name)).map((h) => h.name);
    await admin.expect('PUT', at('inventory/groups', group.name), { ...group, targets }, [200, 201]);
  }
};
