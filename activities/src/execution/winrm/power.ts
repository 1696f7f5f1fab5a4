import { setTimeout as delay } from 'node:timers/promises';
import { CancelledFailure } from '@temporalio/common';
import { ErrorType } from '@opsc/contracts';
import { parseFacts } from '../facts.js';
import { RemoteFailure } from '../remote-failure.js';
import { requireBefore } from '../power-attempt.js';
import { powershellInvocation } from './powershell.js';
import { runRemoteCommand, type ShellSettings } from './remote-shell.js';
import { WinrmConnection, type WinrmAuth, type WinrmEndpoint } from './transport.js';
import { FACT, prologue, type WindowsScript } from './windows-scripts.js';

/*
 * Reboot and shutdown on Windows. Each is one PowerShell script with the usual prologue (no value
 * from the plan goes into it); a reboot is then confirmed by asking the host, over new connections,
 * for its LastBootUpTime until it is later than the one the script reported before restarting.
 */

const BOOT_TIME = `(Get-CimInstance -ClassName Win32_OperatingSystem).LastBootUpTime.ToUniversalTime().ToString('o')`;

const BODIES = {
  reboot: `Write-Fact 'boot_time' ${BOOT_TIME}
Restart-Computer -Force
Write-Output 'restart requested'
exit 0`,
  shutdown: `Stop-Computer -Force
Write-Output 'shutdown requested'
exit 0`,
  'boot-time': `Write-Fact 'boot_time' ${BOOT_TIME}
exit 0`,
} as const;

/** The script of a reboot, a shutdown, or the boot-time probe. */
export const windowsPowerScript = (op: keyof typeof BODIES, nonce: string): WindowsScript => ({
  script: `${prologue(op, nonce, {})}\n${FACT}\n${BODIES[op]}\n`,
  reportsFacts: true,
});

/** A DateTime.ToString('o') in UTC as milliseconds (its seven fractional digits cut to three); NaN when it is not one. */
export const bootTimeMs = (text: string | undefined): number =>
  /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(text ?? '')
    ? Date.parse((text ?? '').replace(/(\.\d{3})\d*Z$/, '$1Z'))
    : Number.NaN;

/** Whether a text is a boot time the host reported. */
export const isBootTime = (text: string): boolean => !Number.isNaN(bootTimeMs(text));

/**
 * What a poll's answer says, against LastBootUpTime before the restart (which must be one): only a
 * later boot time is a new boot. Restart-Computer returns before the host goes down, so an answer
 * is never taken as the new boot without that comparison.
 */
export const bootTimeVerdict = (
  before: string,
  exitCode: number | null,
  seen: string | undefined,
): 'new' | 'same' | 'none' => {
  const from = bootTimeMs(before);
  if (Number.isNaN(from)) throw new RangeError('the boot time before the restart is not a boot time');
  const at = bootTimeMs(seen);
  if (exitCode !== 0 || Number.isNaN(at)) return 'none';
  return at > from ? 'new' : 'same';
};

const POLL_MS = 2_000;

export interface WindowsBootWait {
  endpoint: WinrmEndpoint;
  auth: WinrmAuth;
  connectTimeoutMs: number;
  shell: ShellSettings;
  /** LastBootUpTime before the restart, as the host reported it: must be one (anything else fails at once). */
  before: string;
  timeoutSeconds: number;
  signal: AbortSignal;
  nonce: string;
}

/**
 * Asks the host for its LastBootUpTime over a new connection every couple of seconds until it is
 * later than before. Any fault means "not back yet"; past the deadline it fails for good (a retry
 * would restart the host again).
 */
export const waitForWindowsBoot = async (w: WindowsBootWait): Promise<{ bootTime: string; seconds: number }> => {
  requireBefore(w.before, isBootTime, 'LastBootUpTime', w.endpoint.targetName);
  const began = Date.now();
  const deadline = began + w.timeoutSeconds * 1000;
  const { script } = windowsPowerScript('boot-time', w.nonce);
  const invocation = powershellInvocation(script);
  let last = 'no answer yet';
  const cancelled = () => new CancelledFailure('cancelled while waiting for the host to come back');
  for (;;) {
    if (w.signal.aborted) throw cancelled();
    const left = deadline - Date.now();
    if (left <= 0) break;
    const connection = new WinrmConnection(w.endpoint, w.auth, {
      connectTimeoutMs: Math.max(1_000, Math.min(w.connectTimeoutMs, left)),
    });
    try {
      const r = await runRemoteCommand(
        connection,
        {
          command: invocation.command,
          args: invocation.args,
          ...(invocation.stdin && { stdin: [invocation.stdin] }),
          timeoutMs: Math.max(1_000, Math.min(30_000, left)),
          signal: w.signal,
          captureCapBytes: 16_384,
        },
        w.shell,
      );
      const seen = parseFacts(r.stdout.text(), w.nonce).facts.boot_time;
      const verdict = bootTimeVerdict(w.before, r.exitCode, seen);
      if (verdict === 'new') return { bootTime: seen ?? '', seconds: Math.round((Date.now() - began) / 1000) };
      last =
        verdict === 'same'
          ? `it still reports the boot from before (${seen})`
          : `it answered without a boot time (exit ${r.exitCode ?? 'none'})`;
    } catch (err) {
      if (w.signal.aborted) throw cancelled();
      last = `not answering (${(err as Error).message.slice(0, 200)})`;
    } finally {
      connection.close();
    }
    await delay(Math.min(POLL_MS, Math.max(0, deadline - Date.now())), undefined, { signal: w.signal }).catch(
      () => undefined,
    );
  }
  throw new RemoteFailure(
    ErrorType.Timeout,
    `${w.endpoint.targetName} did not come back within ${w.timeoutSeconds} s of the restart: ${last}`,
    { final: true },
  );
};
