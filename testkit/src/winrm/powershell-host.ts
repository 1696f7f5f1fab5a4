import { errorRecordLines } from './clixml.js';
import { fileCopyOp, fileRestoreOp, fileStageOp } from './op-files.js';
import { commandOp, eventLogOp, processCheckOp } from './op-queries.js';
import { serviceOp, serviceWaitOp } from './op-services.js';
import { fileCheckOp, fileRestoreCheckOp, serviceCheckOp } from './op-checks.js';
import { bootTimeOp, rebootOp, shutdownOp } from './op-power.js';
import { runOnce } from './op-run-marker.js';
import { Op } from './op-support.js';
import { ScriptExit, TerminatingError, type ScriptContext } from './ps-context.js';
import { parsePrologue, PrologueError, splitOperationScript } from './ps-prologue.js';
import { runFreeScript } from './ps-script.js';

/**
 * The simulated powershell.exe's script runner. An operation script (prologue, marker, body) is
 * performed from its prologue's values against the host state; any other script runs in the free
 * subset. The body text itself is never interpreted: it is the client's, and the simulator stands
 * in for what that PowerShell does on a real Windows host. A prologue naming a run marker
 * (`$opsc_runs`) gets the run marker envelope around the operation; under it, the operator's own
 * `powershell` script (`$opsc_body`) runs in the free subset, its exit code as `& script.ps1` gives it.
 */

/** The operator's script under the envelope: `exit N` ends it with N, else 0 or 1 as its last statement went. */
const operatorScript = async (op: Op): Promise<never> => {
  const ok = await runFreeScript(op.str('body'), op.ctx);
  throw new ScriptExit(ok ? 0 : 1);
};

const OPERATIONS: Record<string, (op: Op) => Promise<never> | never> = {
  powershell: operatorScript,
  service: serviceOp,
  'service-wait': serviceWaitOp,
  'process-check': processCheckOp,
  'file-copy': fileCopyOp,
  'file-stage': fileStageOp,
  'file-restore': fileRestoreOp,
  'event-log': eventLogOp,
  command: commandOp,
  reboot: rebootOp,
  shutdown: shutdownOp,
  'boot-time': bootTimeOp,
  'service-check': serviceCheckOp,
  'file-check': fileCheckOp,
  'file-restore-check': fileRestoreCheckOp,
};

const parserError = (message: string): TerminatingError =>
  new TerminatingError(
    errorRecordLines({
      source: 'At the opsc prologue',
      message,
      category: 'ParserError: (:) [], ParentContainsErrorRecordException',
      errorId: 'UnexpectedToken',
    }),
  );

const runOperation = async (prologueText: string, ctx: ScriptContext): Promise<never> => {
  let prologue;
  try {
    prologue = parsePrologue(prologueText);
  } catch (err) {
    if (err instanceof PrologueError) throw parserError(err.message);
    throw err;
  }
  if (prologue.utf8Output) ctx.io.utf8 = true;
  const nonce = prologue.variables.get('opsc_nonce');
  const name = prologue.variables.get('opsc_op');
  const perform = typeof name === 'string' ? OPERATIONS[name] : undefined;
  if (typeof nonce !== 'string' || !perform)
    throw parserError(`the simulated host cannot perform operation ${JSON.stringify(name ?? null)}`);
  const op = new Op(ctx, prologue.variables, nonce);
  if (prologue.variables.has('opsc_runs')) return runOnce(op, async () => perform(op));
  // Only the envelope runs the operator's script as an operation.
  if (name === 'powershell') throw parserError('a powershell operation script needs its run marker');
  return perform(op);
};

/** Runs a script; resolves whether its last statement succeeded, or ends with ScriptExit / TerminatingError. */
export const runPowerShellScript = (script: string, ctx: ScriptContext): Promise<boolean> => {
  const operation = splitOperationScript(script);
  if (operation) return runOperation(operation.prologue, ctx);
  return runFreeScript(script, { ...ctx, runScript: (inner) => runPowerShellScript(inner, ctx) });
};
