import { commandNotFound } from './clixml.js';
import { type Op } from './op-support.js';
import { ScriptExit, TerminatingError } from './ps-context.js';

/** The `process-check`, `event-log` and `command` bodies. */

export const processCheckOp = (op: Op): never => {
  // Get-Process -Name matches ProcessName: the image name without `.exe`.
  const processName = (image: string) => image.replace(/\.exe$/i, '');
  const name = processName(op.str('name'));
  const found = op.ctx.host.processes().filter((p) => processName(p.name).toLowerCase() === name.toLowerCase());
  for (const p of found) op.out(`${processName(p.name)} pid ${p.pid}`);
  if (found.length === 0) op.out(`${op.str('name')} is not running`);
  op.fact('running', String(found.length > 0));
  op.fact('count', found.length);
  op.fact('pids', found.map((p) => p.pid).join(','));
  if (op.is('expect', 'running') && found.length === 0) op.stop(1, `${op.str('name')} is not running`);
  if (op.is('expect', 'stopped') && found.length > 0) op.stop(1, `${op.str('name')} is running`);
  return op.exit(0);
};

const LEVEL_NAMES = { 1: 'Critical', 2: 'Error', 3: 'Warning', 4: 'Information' } as const;
/** Providers a Windows host has registered even when its log holds none of their events. */
const REGISTERED_PROVIDERS = [
  'Service Control Manager',
  'EventLog',
  'Microsoft-Windows-Kernel-General',
  'Application Error',
  'MsiInstaller',
  'Microsoft-Windows-WinRM',
];

/** DateTime.ToString('o') of a UTC time: seven fractional digits and Z. */
export const roundTrip = (time: Date): string => time.toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');

export const eventLogOp = (op: Op): never => {
  const { host } = op.ctx;
  const log = op.str('log');
  const provider = op.strOrNull('provider');
  const level = op.value('level');
  if (!host.logName(log)) op.stop(1, `There is not an event log on the localhost computer that matches "${log}".`);
  if (provider !== null) {
    const known = [...REGISTERED_PROVIDERS, ...host.events().map((e) => e.provider)].some(
      (p) => p.toLowerCase() === provider.toLowerCase(),
    );
    if (!known) op.stop(1, `There is not an event provider on the localhost computer that matches "${provider}".`);
  }
  const since = Date.now() - op.int('sinceMinutes') * 60_000;
  const events = host
    .events()
    .filter((e) => e.log.toLowerCase() === log.toLowerCase() && e.time.getTime() >= since)
    .filter((e) => level === null || e.level === Number(level))
    .filter((e) => provider === null || e.provider.toLowerCase() === provider.toLowerCase())
    .sort((a, b) => b.time.getTime() - a.time.getTime())
    .slice(0, op.int('maxEvents'));
  for (const e of events)
    op.out(
      `${roundTrip(e.time)} ${LEVEL_NAMES[e.level]} ${e.provider} ${e.id}: ${e.message.replace(/\s+/g, ' ').trim()}`,
    );
  op.fact('count', events.length);
  return op.exit(0);
};

/** `& $opsc_program @opsc_args; exit $LASTEXITCODE`. */
export const commandOp = async (op: Op): Promise<never> => {
  const program = op.str('program');
  const args = op.list('args');
  // `echo` is PowerShell's alias of Write-Output: one line per argument, and $LASTEXITCODE stays unset.
  if (/^(echo|write-output|write)$/i.test(program)) {
    for (const arg of args) op.out(arg);
    throw new ScriptExit(0);
  }
  const run = op.ctx.native(program, args);
  if (!run) throw new TerminatingError(commandNotFound(program));
  throw new ScriptExit(await run);
};
