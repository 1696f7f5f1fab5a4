import type { ProcessIo } from './sim-process.js';
import type { WinHost } from './win-host.js';

/** What a simulated PowerShell run can reach, and how its control flow unwinds. */
export interface ScriptContext {
  host: WinHost;
  io: ProcessIo;
  /** Runs a native program as PowerShell's call operator does; null when there is no such program. */
  native(name: string, args: readonly string[]): Promise<number> | null;
  /**
   * Runs a whole script in this process (the stdin bootstrap's inner script); resolves whether its
   * last statement succeeded, and `exit` inside it ends the process (ScriptExit).
   */
  runScript(script: string): Promise<boolean>;
}

/** `exit N`. */
export class ScriptExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** A terminating error nothing caught: the record goes to stderr as CLIXML and the exit code is 1. */
export class TerminatingError extends Error {
  constructor(readonly record: string[]) {
    super(record[0] ?? 'terminating error');
  }
}

/** The exit code of a process Signal terminated (STATUS_CONTROL_C_EXIT). */
export const TERMINATED_EXIT_CODE = -1073741510;
