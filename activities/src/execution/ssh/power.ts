import { setTimeout as delay } from 'node:timers/promises';
import { CancelledFailure } from '@temporalio/common';
import { ErrorType } from '@opsc/contracts';
import { openConnection, where, type ConnectDeps } from './connect.js';
import type { SshEndpoint } from './endpoints.js';
import { execOnChannel } from './exec.js';
import { factFn, type RemoteScript } from './linux-scripts.js';
import { RemoteFailure } from '../remote-failure.js';
import { requireBefore } from '../power-attempt.js';

/** The kernel's id of the current boot: a new one after every reboot. */
export const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id';
/** Seconds between the command's return and the reboot or power-off it scheduled. */
export const POWER_DELAY_SECONDS = 2;
const POLL_MS = 2_000;
const BOOT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whether a text is a kernel boot id. */
export const isBootId = (text: string): boolean => BOOT_ID.test(text);

/** What a poll's answer says, against the boot id before the reboot (which must be one): only another boot id is a new boot. */
export const bootIdVerdict = (before: string, exitCode: number | null, answer: string): 'new' | 'same' | 'none' => {
  if (!isBootId(before)) throw new RangeError('the boot id before the reboot is not a boot id');
  const id = answer.trim();
  if (exitCode !== 0 || !isBootId(id)) return 'none';
  return id === before ? 'same' : 'new';
};

/** Reads the current boot id (run before a reboot is issued: without it no new boot can be told apart). */
export const bootIdScript: RemoteScript = { shell: 'sh', reportsFacts: false, script: `cat ${BOOT_ID_FILE}` };

/**
 * Schedules a reboot or power-off apart from this session: in its own session, no terminal, after
 * POWER_DELAY_SECONDS, so the command returns (with the boot id before) and the connection closes
 * cleanly before the host goes down. systemd's `systemctl` when systemd is the running init, else
 * `shutdown`, else `reboot` / `poweroff`. A reboot is not scheduled when the boot id cannot be read:
 * nothing could then tell the next boot from this one. Nothing here names a value from the plan.
 */
export const powerScript = (op: 'reboot' | 'shutdown', nonce: string): RemoteScript => {
  const [verb, flag, fallback] = op === 'reboot' ? ['reboot', '-r', 'reboot'] : ['poweroff', '-h', 'poweroff'];
  return {
    shell: 'sh',
    reportsFacts: true,
    script: `${factFn(nonce)}
boot_id=$(cat ${BOOT_ID_FILE} 2>/dev/null) || boot_id=
fact boot_id "$boot_id"
${
  op === 'reboot'
    ? `case "$boot_id" in ????????-????-????-????-????????????) ;; *) echo 'cannot read the boot id (${BOOT_ID_FILE}): not rebooting, as nothing could tell the next boot from this one' >&2; exit 3;; esac
`
    : ''
}if command -v systemctl >/dev/null 2>&1 && case "$(systemctl is-system-running 2>/dev/null)" in running|degraded|starting|initializing|maintenance) true;; *) false;; esac; then
  cmd='systemctl ${verb}'
elif command -v shutdown >/dev/null 2>&1; then cmd='shutdown ${flag} now'
elif command -v ${fallback} >/dev/null 2>&1; then cmd='${fallback}'
else echo 'neither systemctl, shutdown nor ${fallback} is available on this host' >&2; exit 127; fi
fact command "$cmd"
setsid nohup sh -c "sleep ${POWER_DELAY_SECONDS}; exec $cmd" </dev/null >/dev/null 2>&1 &
echo "${op} scheduled in ${POWER_DELAY_SECONDS} s ($cmd); boot id \${boot_id:-unknown}"
`,
  };
};

export interface BootWait {
  endpoint: SshEndpoint;
  connectDeps: ConnectDeps;
  /** The boot id the host had before the reboot: must be one (anything else fails at once). */
  before: string;
  timeoutSeconds: number;
  signal: AbortSignal;
  nonce: string;
}

/**
 * Polls the host over fresh connections (the pooled one died with the host) until it answers with
 * another boot id. A changed host key fails at once; any other fault (refused, reset, a handshake
 * timeout) means "not back yet". Past the deadline it fails for good: retrying would reboot again.
 */
export const waitForNewBoot = async (w: BootWait): Promise<{ bootId: string; seconds: number }> => {
  requireBefore(w.before, isBootId, 'boot id', where(w.endpoint));
  const began = Date.now();
  const deadline = began + w.timeoutSeconds * 1000;
  let last = 'no answer yet';
  for (;;) {
    if (w.signal.aborted) throw new CancelledFailure('cancelled while waiting for the host to come back');
    const left = deadline - Date.now();
    if (left <= 0) break;
    try {
      const client = await openConnection(w.endpoint, {
        ...w.connectDeps,
        readyTimeoutMs: Math.max(1_000, Math.min(w.connectDeps.readyTimeoutMs, left)),
      });
      try {
        const r = await execOnChannel(client, {
          command: `cat ${BOOT_ID_FILE}`,
          nonce: w.nonce,
          captureCapBytes: 4096,
          deadlineMs: Math.max(1_000, Math.min(10_000, left)),
          signal: w.signal,
          kill: async () => undefined,
        });
        const id = r.stdout.text().trim();
        const verdict = bootIdVerdict(w.before, r.exitCode, id);
        if (verdict === 'new') return { bootId: id, seconds: Math.round((Date.now() - began) / 1000) };
        last =
          verdict === 'same'
            ? `it still answers with the boot id from before (${id})`
            : `it answered without a boot id (exit ${r.exitCode ?? r.signal})`;
      } finally {
        client.end();
      }
    } catch (err) {
      if (err instanceof RemoteFailure && err.type === ErrorType.HostKeyMismatch) throw err;
      if (w.signal.aborted) throw new CancelledFailure('cancelled while waiting for the host to come back');
      last = `not answering (${(err as Error).message.slice(0, 200)})`;
    }
    await delay(Math.min(POLL_MS, Math.max(0, deadline - Date.now())), undefined, { signal: w.signal }).catch(
      () => undefined,
    );
  }
  throw new RemoteFailure(
    ErrorType.Timeout,
    `${where(w.endpoint)} did not come back within ${w.timeoutSeconds} s of the reboot: ${last}`,
    { final: true },
  );
};
