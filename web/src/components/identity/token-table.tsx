'use client';
import { dateTime } from '../../lib/format';
import type { TokenView } from '@opsc/contracts/api';
import { DataTable } from '../data-table';

const stateOf = (t: TokenView): 'revoked' | 'expired' | 'active' =>
  t.revokedAt ? 'revoked' : Date.parse(t.expiresAt) <= Date.now() ? 'expired' : 'active';

/** API tokens by name and first characters (the secret itself is never shown again), each with a revoke button while it is active. */
export const TokenTable = ({
  tokens,
  testId,
  onRevoke,
}: {
  tokens: TokenView[] | null;
  testId: string;
  onRevoke: (token: TokenView) => void;
}) => (
  <DataTable
    rows={tokens}
    columns={['Name', 'Token', 'Created', 'Expires', 'Last used', 'State', '']}
    testId={testId}
    empty="No API tokens."
    row={(t) => (
      <tr key={t.id} data-token={t.name} data-state={stateOf(t)}>
        <td>{t.name}</td>
        <td className="mono small">{t.prefix}…</td>
        <td className="small">{dateTime(t.createdAt)}</td>
        <td className="small">{dateTime(t.expiresAt)}</td>
        <td className="small">{t.lastUsedAt ? dateTime(t.lastUsedAt) : 'never'}</td>
        <td className="small" data-testid="token-state">
          {stateOf(t)}
        </td>
        <td>
          {stateOf(t) === 'active' && (
            <button type="button" className="danger" onClick={() => onRevoke(t)}>
              Revoke
            </button>
          )}
        </td>
      </tr>
    )}
  />
);
