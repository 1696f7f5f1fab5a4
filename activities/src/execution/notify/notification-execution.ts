import type pg from 'pg';
import { parseEgressRule, type EgressRule } from '@opsc/contracts';
import { createEgressGuard, type Resolver } from '../egress/egress-guard.js';
import type { Keyring } from '../vault/keyring.js';
import { createChannelSecretOpener } from './channel-secret.js';
import type { NotificationExecution } from './deliver-notification.js';
import { createNotificationGate } from './notification-gate.js';

/** The tenant's allowed destinations, read for each delivery (deliveries are rare; an admin's change applies at once). */
const tenantRules =
  (pool: pg.Pool) =>
  async (tenantId: string): Promise<readonly EgressRule[]> => {
    const { rows } = await pool.query<{ destination: string }>(
      'SELECT destination FROM tenant_egress_allow WHERE tenant_id = $1 ORDER BY destination',
      [tenantId],
    );
    return rows.flatMap((row) => {
      const parsed = parseEgressRule(row.destination);
      return 'rule' in parsed ? [parsed.rule] : [];
    });
  };

/**
 * Notification delivery as the executor wires it: its gate, the vault for the channels' secrets, and
 * the egress policy of the channel's tenant (the same rules as http steps: loopback, link-local and
 * private receivers only where the tenant allows them; metadata and the platform's services never).
 */
export const createNotificationExecution = (
  pool: pg.Pool,
  keyring: Keyring,
  platform: () => Promise<readonly EgressRule[]>,
  resolve?: Resolver,
): NotificationExecution => {
  const rules = tenantRules(pool);
  return {
    pool,
    gate: createNotificationGate(pool),
    openSecret: createChannelSecretOpener(pool, keyring),
    egress: createEgressGuard({ allowFor: (scope) => rules(scope.tenantId), platform, ...(resolve && { resolve }) }),
  };
};
