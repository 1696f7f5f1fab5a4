import { clixmlErrors } from './clixml.js';
import { runPowerShellScript } from './powershell-host.js';
import { cmdNotRecognized, nativeProgram, programKey, splitCommandLine } from './programs.js';
import { ScriptExit, TERMINATED_EXIT_CODE, TerminatingError, type ScriptContext } from './ps-context.js';
import { Killed, type ProcessIo } from './sim-process.js';
import type { WinHost } from './win-host.js';

/**
 * Starts what a WinRS Command asks for. WinRS hands the command line to `cmd.exe /c` (the clients
 * here leave WINRS_SKIP_CMD_SHELL false), so an unknown program gets cmd's message; `powershell`
 * takes its script from -EncodedCommand, -Command, or stdin.
 */

/** The command line after its first token (cmd's builtins see the raw text). */
const afterFirstToken = (line: string): string => {
  const text = line.trimStart();
  if (text.startsWith('"')) {
    const end = text.indexOf('"', 1);
    return end === -1 ? '' : text.slice(end + 1).trimStart();
  }
  return text.replace(/^\S+\s*/, '');
};

const quoteArg = (arg: string): string => (arg === '' || /[\s"]/.test(arg) ? `"${arg.replace(/"/g, '\\"')}"` : arg);

const SKIPPED_FLAGS = /^-(nologo|noprofile|noninteractive|sta|mta|noexit)$/i;
const FLAGS_WITH_VALUE = /^-(executionpolicy|ep|ex|inputformat|if|outputformat|of|windowstyle|w|version|v)$/i;
const ENCODED =
  /^-(e|ec|en|enc|enco|encod|encode|encoded|encodedc|encodedco|encodedcom|encodedcomm|encodedcomma|encodedcomman|encodedcommand)$/i;

/** powershell.exe's command line -> its script; null means "read the script from stdin". */
const powershellScript = (args: readonly string[]): string | null => {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (SKIPPED_FLAGS.test(arg)) continue;
    if (FLAGS_WITH_VALUE.test(arg)) {
      i++;
      continue;
    }
    if (ENCODED.test(arg)) return Buffer.from(args[i + 1] ?? '', 'base64').toString('utf16le');
    if (/^-(c|command)$/i.test(arg)) return args.slice(i + 1).join(' ');
    // Anything else starts the command text, as powershell.exe reads it.
    return args.slice(i).join(' ');
  }
  return null;
};

const powershell = async (args: readonly string[], io: ProcessIo, host: WinHost): Promise<number> => {
  const script = powershellScript(args) ?? (await io.readToEnd());
  const ctx: ScriptContext = {
    host,
    io,
    native: (name, nativeArgs) => native(name, nativeArgs, io, host),
    runScript: (inner) => runPowerShellScript(inner, ctx),
  };
  let code: number;
  try {
    code = (await runPowerShellScript(script, ctx)) ? 0 : 1;
  } catch (err) {
    if (err instanceof ScriptExit) code = err.code;
    else if (err instanceof TerminatingError) {
      io.errorRecords.push(err.record);
      code = 1;
    } else throw err;
  }
  // The error stream is serialised when the process ends, as one CLIXML document.
  if (io.errorRecords.length > 0) io.raw('stderr', clixmlErrors(io.errorRecords.splice(0)));
  return code;
};

/** A program run from PowerShell (`& name args`); null when PowerShell would not find it. */
const native = (name: string, args: readonly string[], io: ProcessIo, host: WinHost): Promise<number> | null => {
  const key = programKey(name);
  if (key === 'cmd') return cmd(['cmd', ...args].map(quoteArg).join(' '), io, host);
  if (key === 'powershell') return powershell(args, io, host);
  const program = nativeProgram(name);
  return program ? child(name, (childIo) => program(args, childIo, host), io, host) : null;
};

/**
 * A native program PowerShell starts is a process of its own (its parent this one): PowerShell
 * waits for it, but Stop-Process on PowerShell leaves it running, as on Windows.
 */
const child = (
  name: string,
  run: (io: ProcessIo) => Promise<number> | number,
  io: ProcessIo,
  host: WinHost,
): Promise<number> => {
  io.check();
  const abort = new AbortController();
  const process = host.startCommandProcess(name, () => abort.abort(), io.pid);
  const childIo = io.child(abort.signal);
  childIo.pid = process.pid;
  childIo.started = process.started ?? new Date();
  const exited = Promise.resolve()
    .then(() => run(childIo))
    .catch((err: unknown) => (err instanceof Killed ? TERMINATED_EXIT_CODE : Promise.reject(err)))
    .finally(() => host.endCommandProcess(process.pid));
  return new Promise<number>((resolve, reject) => {
    const onAbort = () => reject(new Killed());
    io.signal.addEventListener('abort', onAbort, { once: true });
    exited.then(
      (code) => {
        io.signal.removeEventListener('abort', onAbort);
        resolve(code);
      },
      (err: unknown) => {
        io.signal.removeEventListener('abort', onAbort);
        reject(err as Error);
      },
    );
  });
};

/** cmd.exe /c LINE: its builtins, a nested cmd or powershell, or a program. */
const cmd = async (line: string, io: ProcessIo, host: WinHost): Promise<number> => {
  const argv = splitCommandLine(line);
  const name = argv[0];
  if (name === undefined) return 0;
  const key = programKey(name);
  if (key === 'echo' && !/\.exe$/i.test(name)) {
    io.line(afterFirstToken(line) || 'ECHO is on.');
    return 0;
  }
  if (key === 'cmd') {
    const rest = /(?:^|\s)\/[ck](?:\s+|$)([\s\S]*)$/i.exec(line)?.[1]?.trim();
    if (rest === undefined) return 0;
    return cmd(rest.startsWith('"') && rest.endsWith('"') && rest.length > 1 ? rest.slice(1, -1) : rest, io, host);
  }
  if (key === 'powershell') return powershell(argv.slice(1), io, host);
  const program = nativeProgram(name);
  return program ? program(argv.slice(1), io, host) : cmdNotRecognized(io, name);
};

/** Runs a WinRS command line to its exit code (Killed when terminated). */
export const runCommandLine = (line: string, io: ProcessIo, host: WinHost): Promise<number> => cmd(line, io, host);
