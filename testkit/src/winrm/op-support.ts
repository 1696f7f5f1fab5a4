import { errorRecordLines } from './clixml.js';
import { ScriptExit, TerminatingError, type ScriptContext } from './ps-context.js';
import type { PsLiteral } from './ps-prologue.js';
import { WinIoError } from './win-files.js';

/**
 * What an operation body has in common: its `$opsc_*` variables, `Write-Fact`, `Stop-WithError`
 * (plain text on stderr, then exit), and the errors PowerShell raises when a cmdlet or a .NET
 * method fails.
 */
export class Op {
  /** Every fact written, last value per key: what `$opsc_facts` keeps for a run marker. */
  readonly facts = new Map<string, string>();

  constructor(
    readonly ctx: ScriptContext,
    private readonly vars: ReadonlyMap<string, PsLiteral>,
    readonly nonce: string,
  ) {}

  /** `$opsc_<name>`; an unset variable is $null, as in PowerShell. */
  value(name: string): PsLiteral {
    return this.vars.get(`opsc_${name}`) ?? null;
  }

  /** A variable as a [string] parameter sees it ($null becomes ''). */
  str(name: string): string {
    const v = this.value(name);
    return v === null ? '' : Array.isArray(v) ? v.join(' ') : String(v);
  }

  strOrNull(name: string): string | null {
    const v = this.value(name);
    return v === null ? null : this.str(name);
  }

  int(name: string): number {
    const v = this.value(name);
    const n = typeof v === 'number' ? v : Number.parseInt(this.str(name), 10);
    return Number.isNaN(n) ? 0 : n;
  }

  bool(name: string): boolean {
    const v = this.value(name);
    return Array.isArray(v) ? v.length > 0 : Boolean(v);
  }

  list(name: string): string[] {
    const v = this.value(name);
    return Array.isArray(v) ? v : v === null ? [] : [String(v)];
  }

  /** PowerShell's `-eq` on strings ignores case. */
  is(name: string, expected: string): boolean {
    return this.str(name).toLowerCase() === expected.toLowerCase() && this.value(name) !== null;
  }

  fact(key: string, value: string | number): void {
    this.ctx.io.line(`@@opsc-${this.nonce} ${key}=${value}`);
    this.facts.set(key, String(value));
  }

  out(text: string): void {
    this.ctx.io.line(text);
  }

  /** `Stop-WithError`: the message on stderr as plain text, then `exit`. */
  stop(code: number, message: string): never {
    this.ctx.io.errorLine(message);
    throw new ScriptExit(code);
  }

  exit(code: number): never {
    throw new ScriptExit(code);
  }
}

/** Control flow (exit, termination) passes through a body's `catch`, as in PowerShell. */
export const isControlFlow = (err: unknown): boolean => !(err instanceof WinIoError);

/**
 * PowerShell's wrapping of an exception thrown by a .NET method it called. A typed `catch` matches
 * the inner exception and binds it to `$_`; a bare `catch` sees the wrapper's message.
 */
export const methodError = (method: string, argCount: number, err: unknown): unknown =>
  err instanceof WinIoError
    ? new WinIoError(err.kind, `Exception calling "${method}" with "${argCount}" argument(s): "${err.message}"`, err)
    : err;

const CMDLET_ERRORS: Record<
  string,
  {
    category: (e: WinIoError, target: string) => string;
    id: (e: WinIoError) => string;
    message?: (e: WinIoError, target: string) => string;
  }
> = {
  'Remove-Item': {
    category: (e, target) =>
      `${e.kind === 'denied' ? 'PermissionDenied' : 'WriteError'}: (${target}:FileInfo) [Remove-Item], ${e.kind === 'denied' ? 'UnauthorizedAccessException' : 'IOException'}`,
    id: (e) =>
      `${e.kind === 'denied' ? 'RemoveFileSystemItemUnAuthorizedAccess' : 'RemoveFileSystemItemIOError'},Microsoft.PowerShell.Commands.RemoveItemCommand`,
    message: (e, target) => `Cannot remove item ${target}: ${e.message}`,
  },
  'Copy-Item': {
    category: (e) =>
      `${e.kind === 'denied' ? 'PermissionDenied' : e.kind === 'not-found' ? 'ObjectNotFound' : 'NotSpecified'}: (:) [Copy-Item], ${e.kind === 'denied' ? 'UnauthorizedAccessException' : e.kind === 'not-found' ? 'DirectoryNotFoundException' : 'IOException'}`,
    id: (e) =>
      `${e.kind === 'denied' ? 'System.UnauthorizedAccessException' : e.kind === 'not-found' ? 'System.IO.DirectoryNotFoundException' : 'System.IO.IOException'},Microsoft.PowerShell.Commands.CopyItemCommand`,
  },
};

/** A cmdlet's failure under `$ErrorActionPreference = 'Stop'` that nothing catches. */
export const uncaught = (cmdlet: string, target: string, err: unknown): unknown => {
  if (!(err instanceof WinIoError)) return err;
  const shape = CMDLET_ERRORS[cmdlet];
  return new TerminatingError(
    errorRecordLines({
      source: cmdlet,
      message: shape?.message?.(err, target) ?? err.message,
      category: shape?.category(err, target) ?? `NotSpecified: (:) [${cmdlet}], IOException`,
      errorId:
        shape?.id(err) ?? `System.IO.IOException,Microsoft.PowerShell.Commands.${cmdlet.replace('-', '')}Command`,
    }),
  );
};
