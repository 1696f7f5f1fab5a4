import type { ProcessIo } from './sim-process.js';
import type { WinHost } from './win-host.js';

/** The native programs a simulated host has, and how Windows splits a command line into them. */

export type NativeProgram = (args: readonly string[], io: ProcessIo, host: WinHost) => Promise<number> | number;

const ipconfig: NativeProgram = (_args, io, host) => {
  for (const line of [
    '',
    'Windows IP Configuration',
    '',
    '',
    'Ethernet adapter Ethernet:',
    '',
    '   Connection-specific DNS Suffix  . : ',
    '   Link-local IPv6 Address . . . . . : fe80::5efe:7f00:2%4',
    `   IPv4 Address. . . . . . . . . . . : ${host.identity.address}`,
    '   Subnet Mask . . . . . . . . . . . : 255.0.0.0',
    '   Default Gateway . . . . . . . . . : ',
  ])
    io.line(line);
  return 0;
};

/** `waitfor /t <seconds> <signal>`: waits for a signal nobody sends, the way a long installer keeps a step busy. */
const waitfor: NativeProgram = async (args, io) => {
  const at = args.findIndex((a) => a.toLowerCase() === '/t');
  const seconds = Number(args[at + 1]);
  const signal = args.filter((_, i) => i !== at && i !== at + 1).at(-1);
  if (at === -1 || !Number.isInteger(seconds) || seconds < 1 || seconds > 99_999 || !signal) {
    io.raw('stderr', 'ERROR: Invalid syntax.\r\nType "WAITFOR /?" for usage.\r\n');
    return 1;
  }
  await io.sleep(seconds * 1000);
  io.raw('stderr', `ERROR: Timed out waiting for '${signal}'.\r\n`);
  return 1;
};

const PROGRAMS: Record<string, NativeProgram> = {
  waitfor,
  hostname: (_args, io, host) => {
    io.line(host.identity.hostname);
    return 0;
  },
  // whoami prints the account in lower case, computer name first.
  whoami: (_args, io, host) => {
    io.line(`${host.identity.hostname}\\${host.identity.username}`.toLowerCase());
    return 0;
  },
  ipconfig,
};

/** `C:\Windows\System32\HOSTNAME.EXE` -> `hostname`: how a program name is looked up. */
export const programKey = (name: string): string =>
  name
    .replace(/^.*[\\/]/, '')
    .replace(/\.exe$/i, '')
    .toLowerCase();

export const nativeProgram = (name: string): NativeProgram | undefined => PROGRAMS[programKey(name)];

/** What cmd.exe says about a program it cannot find. */
export const cmdNotRecognized = (io: ProcessIo, name: string): number => {
  io.raw(
    'stderr',
    `'${name}' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n`,
  );
  return 1;
};

/**
 * CommandLineToArgvW's rules: whitespace separates, double quotes group, `\"` is a literal quote,
 * and backslashes are literal unless they precede a quote.
 */
export const splitCommandLine = (line: string): string[] => {
  const args: string[] = [];
  let current = '';
  let started = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (c === '\\') {
      let n = 0;
      while (line[i + n] === '\\') n++;
      if (line[i + n] === '"') {
        current += '\\'.repeat(Math.floor(n / 2));
        if (n % 2 === 1) current += '"';
        else quoted = !quoted;
        i += n;
      } else {
        current += '\\'.repeat(n);
        i += n - 1;
      }
      started = true;
    } else if (c === '"') {
      if (quoted && line[i + 1] === '"') {
        current += '"';
        i++;
      } else quoted = !quoted;
      started = true;
    } else if (!quoted && (c === ' ' || c === '\t')) {
      if (started) args.push(current);
      current = '';
      started = false;
    } else {
      current += c;
      started = true;
    }
  }
  if (started) args.push(current);
  return args;
};
