import { errorRecordLines } from './clixml.js';
import { type Op } from './op-support.js';
import { TerminatingError } from './ps-context.js';
import { ServiceControlError, type ServiceView } from './win-host.js';

/** The `service` and `service-wait` bodies: Get-Service, Start/Stop-Service -NoWait, and the polling wait. */

const POLL_MS = 500;

const getServiceOrFail = (op: Op, name: string): ServiceView =>
  op.ctx.host.service(name) ?? op.stop(1, `Cannot find any service with service name '${name}'.`);

/** `Wait-ServiceState`: polls every 500 ms until the state, or reports the state and exits 2 at the deadline. */
const waitServiceState = async (op: Op, name: string, state: string, seconds: number): Promise<ServiceView> => {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const svc = getServiceOrFail(op, name);
    if (svc.status.toLowerCase() === state.toLowerCase()) return svc;
    if (Date.now() >= deadline) {
      op.fact('state', svc.status);
      op.stop(2, `Service ${name} did not reach ${state} within ${seconds}s (it is ${svc.status})`);
    }
    await op.ctx.io.sleep(POLL_MS);
  }
};

/** Start-Service / Stop-Service; a refusal is a terminating error under `$ErrorActionPreference = 'Stop'`. */
const control = (op: Op, name: string, action: 'start' | 'stop'): void => {
  try {
    if (action === 'start') op.ctx.host.startService(name);
    else op.ctx.host.stopService(name);
  } catch (err) {
    if (!(err instanceof ServiceControlError)) throw err;
    const cmdlet = action === 'start' ? 'Start-Service' : 'Stop-Service';
    throw new TerminatingError(
      errorRecordLines({
        source: cmdlet,
        message: err.message,
        category: `${action === 'start' ? 'OpenError' : 'CloseError'}: (System.ServiceProcess.ServiceController:ServiceController) [${cmdlet}], ServiceCommandException`,
        errorId: `${action === 'start' ? 'CouldNotStartService' : 'CouldNotStopService'},Microsoft.PowerShell.Commands.${cmdlet.replace('-', '')}Command`,
      }),
    );
  }
};

export const serviceOp = async (op: Op): Promise<never> => {
  const name = op.str('name');
  const timeout = op.int('timeoutSeconds');
  let svc = getServiceOrFail(op, name);
  op.fact('before', svc.status);
  const stop = op.is('action', 'stop') || op.is('action', 'restart');
  const start = op.is('action', 'start') || op.is('action', 'restart');
  if (stop) {
    if (svc.status === 'Stopped') op.out(`Service ${name} is already stopped`);
    else {
      op.out(`Stopping service ${name}...`);
      control(op, name, 'stop');
      svc = await waitServiceState(op, name, 'Stopped', timeout);
      op.out(`Service ${name} stopped`);
    }
  }
  if (start) {
    if (svc.status === 'Running') op.out(`Service ${name} is already running`);
    else {
      op.out(`Starting service ${name}...`);
      control(op, name, 'start');
      svc = await waitServiceState(op, name, 'Running', timeout);
      op.out(`Service ${name} started`);
    }
  }
  if (op.is('action', 'status')) op.out(`Service ${name} is ${svc.status}`);
  op.fact('state', svc.status);
  return op.exit(0);
};

export const serviceWaitOp = async (op: Op): Promise<never> => {
  const name = op.str('name');
  op.fact('before', getServiceOrFail(op, name).status);
  const svc = await waitServiceState(op, name, op.str('state'), op.int('timeoutSeconds'));
  op.out(`Service ${name} is ${svc.status}`);
  op.fact('state', svc.status);
  return op.exit(0);
};
