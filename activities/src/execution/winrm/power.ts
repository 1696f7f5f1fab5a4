import { setTimeout as delay } from 'node:timers/promises';
import { CancelledFailure } from '@temporalio/common';
import { ErrorType } from '@opsc/contracts';
import { parseFacts } from '../facts.js';
import { RemoteFailure } from '../remote-failure.js';
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

const POLL_MS = 2_000;

export interface WindowsBootWait {
  endpoint: WinrmEndpoint;
  auth: WinrmAuth;
  connectTimeoutMs: number;
  shell: ShellSettings;
  /** LastBootUpTime before the restart, as the reboot script reported it. */
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
  const began = Date.now();
  const deadline = began + w.timeoutSeconds * 1000;
  const before = bootTimeMs(w.before);
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
      const at = bootTimeMs(seen);
      if (r.exitCode === 0 && !Number.isNaN(at)) {
        if (Number.isNaN(before) || at > before)
          return { bootTime: seen ?? '', seconds: Math.round((Date.now() - began) / 1000) };
        last = `it still reports the boot from before (${seen})`;
      } else last = `it answered without a boot time (exit ${r.exitCode ?? 'none'})`;
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
