import type { RiskLevel } from '@opsc/contracts';

const LABEL: Record<string, string> = {
  awaiting_approval: 'awaiting approval',
  awaiting_decision: 'awaiting decision',
  rolling_back: 'rolling back',
  rolled_back: 'rolled back',
  rollback_failed: 'undo failed',
};

export const StatusBadge = ({ status, testId }: { status: string; testId?: string }) => (
  <span className={`badge s-${status}`} data-testid={testId} data-status={status}>
    {LABEL[status] ?? status}
  </span>
);

export const RiskBadge = ({ risk }: { risk: RiskLevel | string }) => (
  <span className={`badge risk-${risk}`} data-testid="risk">
    risk: {risk}
  </span>
);
