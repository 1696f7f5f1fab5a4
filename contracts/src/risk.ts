import { localCommandProfile } from './local-commands.js';
import { remoteCommandReadOnly } from './remote-commands.js';
import { sqlActsOnServer, sqlOnlyReads, sqlStatementCount } from './sql-text.js';
import type { Action, Plan, Step } from './plan.js';
import { RISK_ORDER, type RiskLevel } from './tools.js';

/** Operations that only look: running them again, or on the wrong day, changes nothing. */
const READ_OPERATIONS: Record<'ssh' | 'winrm', ReadonlySet<string>> = {
  ssh: new Set(['service-wait', 'process-check', 'disk-usage', 'file-fetch', 'host-key-enrol']),
  winrm: new Set(['process-check', 'service-wait', 'event-log']),
};

/** Operations that take the host down: a reboot or a shutdown cannot be undone. */
const DESTRUCTIVE_OPERATIONS: ReadonlySet<string> = new Set(['reboot', 'shutdown']);

/** HTTP methods that only look. */
const READ_HTTP_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);

/** A command on a target (SSH `run`, WinRM `command`): read-only only in an argv-exact shape of remote-commands.ts. */
const commandRisk = (action: Extract<Action, { method: 'ssh' | 'winrm' }>): RiskLevel | null => {
  const op = action.operation as { op: string; argv?: string[]; program?: string; args?: string[] };
  if (action.method === 'ssh' && op.op === 'run' && op.argv?.length)
    return remoteCommandReadOnly('ssh', op.argv[0]!, op.argv.slice(1)) ? 'read' : 'change';
  if (action.method === 'winrm' && op.op === 'command' && op.program)
    return remoteCommandReadOnly('winrm', op.program, op.args ?? []) ? 'read' : 'change';
  return null;
};

/**
 * A SQL step: destructive with writes allowed, or with more than one statement (the validator refuses
 * that, the executor too), or calling what acts beyond its transaction; a read for one read statement;
 * any other statement is a change even in a read-only transaction (COPY TO, SET, CALL).
 */
const databaseRisk = (action: Extract<Action, { method: 'database' }>): RiskLevel => {
  if (action.allowWrites || sqlStatementCount(action.query) > 1 || sqlActsOnServer(action.query)) return 'destructive';
  return sqlOnlyReads(action.query) ? 'read' : 'change';
};

/**
 * What an action itself can do, computed from the action and nothing else a plan says about it.
 * Free-form commands and scripts are changes unless they match the argv-exact read-only list.
 */
export const actionRisk = (action: Action): RiskLevel => {
  switch (action.method) {
    case 'local-command':
      return localCommandProfile(action.command, action.args).readOnly ? 'read' : 'change';
    case 'http':
      return READ_HTTP_METHODS.has(action.httpMethod) ? 'read' : 'change';
    case 'database':
      return databaseRisk(action);
    case 'timer':
      return 'read';
    case 'ssh':
    case 'winrm': {
      const command = commandRisk(action);
      if (command) return command;

      const op = action.operation as { op: string; action?: string };
      if (DESTRUCTIVE_OPERATIONS.has(op.op)) return 'destructive';
      if (READ_OPERATIONS[action.method].has(op.op)) return 'read';
      if ((op.op === 'service' && op.action === 'status') || (op.op === 'package' && op.action === 'version'))
        return 'read';
      return 'change';
    }
  }
};

/** The higher of two risks. */
export const maxRisk = (a: RiskLevel, b: RiskLevel): RiskLevel => (RISK_ORDER[b] > RISK_ORDER[a] ? b : a);

/** Whether `risk` is at most `ceiling`. */
export const riskWithin = (risk: RiskLevel, ceiling: RiskLevel): boolean => RISK_ORDER[risk] <= RISK_ORDER[ceiling];

/**
 * The highest risk a plan's steps carry as their actions and their tools say: what anyone holding
 * only the plan (the executor's gate) can tell for itself, without the catalog.
 */
export const planActionRisk = (plan: Pick<Plan, 'steps'>): RiskLevel =>
  plan.steps.reduce<RiskLevel>(
    (risk, step) => maxRisk(maxRisk(risk, actionRisk(step.action)), step.tool?.risk ?? 'read'),
    'read',
  );

/** What a step's durations are recorded under: its tool, or its method and operation. */
export const toolKeyOf = (step: Step): string => {
  const { action } = step;
  // A wait lasts what it says, whatever tool made it: its history is that of waits of that length.
  if (action.method === 'timer') return `timer:${action.seconds}`;
  if (step.tool) return step.tool.name;
  if (action.method === 'ssh' || action.method === 'winrm')
    return `${action.method}:${(action.operation as { op: string }).op}`;
  return action.method === 'local-command' ? `local-command:${action.command}` : action.method;
};
