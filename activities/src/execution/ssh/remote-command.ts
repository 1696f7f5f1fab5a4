import { shQuote } from './shell-quote.js';
import type { RemoteScript } from './linux-scripts.js';

/** How a command gets root: not at all, `sudo -n` (passwordless), or a password on sudo's stdin. */
export type Become = 'none' | 'sudo-nopasswd' | 'sudo-password';

/** Seconds between `timeout`'s TERM and its KILL. */
export const KILL_GRACE_SECONDS = 5;

const sudo = (become: Become, command: string): string => {
  switch (become) {
    case 'none':
      return command;
    case 'sudo-nopasswd':
      return `sudo -n -- ${command}`;
    case 'sudo-password':
      // -S reads the password from stdin (never the command line); -p '' keeps the prompt out of stderr.
      return `sudo -S -p '' -- ${command}`;
  }
};

/**
 * The command line sent over the exec channel. The script runs under `timeout -k`, so it stops on
 * the target even if this connection or the whole executor is gone; `timeout` leads its own
 * process group, whose id the first stdout line reports so a cancellation can kill the group.
 * A detached script (a change under its run marker) does both itself.
 */
export const wrapScript = (
  remote: RemoteScript,
  opts: { timeoutSeconds: number; nonce: string; become: Become },
): string => {
  // It goes into the command line as it is: a number and nothing else.
  if (!Number.isSafeInteger(opts.timeoutSeconds) || opts.timeoutSeconds < 1)
    throw new RangeError(`not a timeout in seconds: ${String(opts.timeoutSeconds).slice(0, 40)}`);
  // A detached script prints the pid line of its own process group and runs under its own `timeout`.
  if (remote.detached) return sudo(opts.become, `${remote.shell} -c ${shQuote(remote.script)}`);
  const inner = `echo "@@opsc-${opts.nonce}-pid $$"; exec timeout -k ${KILL_GRACE_SECONDS} ${opts.timeoutSeconds} ${remote.shell} -c ${shQuote(remote.script)} </dev/null`;
  return sudo(opts.become, `sh -c ${shQuote(inner)}`);
};

/**
 * A wrapped command, then `after` as the login user (outside sudo) in the same session, whatever
 * the command's exit code, which it keeps. A session killed midway does not run `after`.
 */
export const thenAsLoginUser = (command: string, after: string): string =>
  `sh -c ${shQuote(`${command}\nrc=$?\n${after}\nexit "$rc"`)}`;

/** A maintenance script run as the step runs (the same `become`). */
export const asBecome = (script: string, become: Become): string => sudo(become, `sh -c ${shQuote(script)}`);

/** Stops a wrapped script's whole process group: TERM, then KILL for what is left. */
export const killCommand = (pgid: number, become: Become): string => {
  if (!Number.isSafeInteger(pgid) || pgid <= 1) throw new RangeError(`not a process group id: ${pgid}`);
  // No `--`: dash's kill builtin refuses it, and takes `-TERM -<pgid>` as a group.
  const script = `kill -TERM -${pgid} 2>/dev/null; sleep 2; kill -KILL -${pgid} 2>/dev/null; true`;
  return sudo(become, `sh -c ${shQuote(script)}`);
};

/** The line the wrapper prints first; it is not part of the command's output. */
export const pidLinePattern = (nonce: string): RegExp => new RegExp(`^@@opsc-${nonce}-pid (\\d+)\\n`);

/** sudo's own refusals, told apart from the command's stderr (sudo failed before the wrapper ran). */
export const SUDO_REFUSAL =
  /^sudo: |^Sorry, try again|a password is required|incorrect password|is not in the sudoers file|is not allowed to (run|execute)/m;
