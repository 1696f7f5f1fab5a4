import { roundTrip } from './op-queries.js';
import { type Op } from './op-support.js';

/**
 * The `reboot`, `shutdown` and `boot-time` bodies: LastBootUpTime from Win32_OperatingSystem, and
 * Restart-Computer / Stop-Computer -Force, which return at once and leave the rest to the host (the
 * fleet takes its endpoint down, and for a restart boots it again later).
 */

const power = (op: Op, action: 'restart' | 'stop'): void => {
  const ask = op.ctx.host.onPower;
  if (!ask) op.stop(1, `${action === 'restart' ? 'Restart' : 'Stop'}-Computer: this host cannot be powered off`);
  ask(action);
};

export const rebootOp = (op: Op): never => {
  op.fact('boot_time', roundTrip(op.ctx.host.bootTime));
  power(op, 'restart');
  op.out('restart requested');
  return op.exit(0);
};

export const shutdownOp = (op: Op): never => {
  power(op, 'stop');
  op.out('shutdown requested');
  return op.exit(0);
};

export const bootTimeOp = (op: Op): never => {
  op.fact('boot_time', roundTrip(op.ctx.host.bootTime));
  return op.exit(0);
};
