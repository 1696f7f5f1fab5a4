import { XMLParser } from 'fast-xml-parser';
import { psQuote } from '@opsc/contracts';

/** PowerShell over WinRM: quoting, encoding a script for the command line, and reading its error stream. */

export { psQuote };

/** cmd.exe's command-line limit; an encoded script longer than this goes over stdin instead. */
export const COMMAND_LINE_LIMIT = 8_191;

const POWERSHELL = ['powershell.exe', '-NoLogo', '-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass'];

/**
 * How to run a script: as `-EncodedCommand` (UTF-16LE, base64) when it fits on a command line;
 * else a short encoded bootstrap reads the script as one line of stdin (base64 of UTF-8) and runs it
 * as one scriptblock (so blank lines and here-strings survive). UTF-8 output either way.
 */
export const powershellInvocation = (script: string): { command: string; args: string[]; stdin?: Buffer } => {
  const prelude = `$ProgressPreference = 'SilentlyContinue'\n[Console]::OutputEncoding = [System.Text.Encoding]::UTF8\n`;
  const [command, ...flags] = POWERSHELL as [string, ...string[]];
  const encode = (text: string) => Buffer.from(text, 'utf16le').toString('base64');
  const direct = encode(prelude + script);
  if (command.length + flags.join(' ').length + direct.length + 20 <= COMMAND_LINE_LIMIT) {
    return { command, args: [...flags, '-EncodedCommand', direct] };
  }
  // One line, not all of stdin: a script that reads stdin itself (file-copy) finds its data after it.
  const bootstrap = `${prelude}$s = [Console]::In.ReadLine()\n& ([ScriptBlock]::Create([System.Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($s))))`;
  return {
    command,
    args: [...flags, '-EncodedCommand', encode(bootstrap)],
    stdin: Buffer.from(`${Buffer.from(script, 'utf8').toString('base64')}\r\n`, 'ascii'),
  };
};

const clixml = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  trimValues: false,
  isArray: (name) => name === 'S',
});

/** `_x000D__x000A_` and friends: how CLIXML escapes characters. */
const unescapeClixml = (text: string): string =>
  text.replace(/_x([0-9A-Fa-f]{4})_/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

/**
 * Turns PowerShell's CLIXML error stream (`#< CLIXML` then serialized records) into the text a
 * person would have seen; other stderr passes through unchanged.
 */
export const readableStderr = (stderr: string): string => {
  const start = stderr.indexOf('#< CLIXML');
  if (start === -1) return stderr;
  const before = stderr.slice(0, start);
  const xml = stderr.slice(start + '#< CLIXML'.length).trim();
  let doc: Record<string, unknown>;
  try {
    doc = clixml.parse(xml) as Record<string, unknown>;
  } catch {
    return stderr;
  }
  const objs = (doc.Objs ?? {}) as { S?: unknown[] };
  const lines = (objs.S ?? [])
    .map((s) => (typeof s === 'object' && s !== null ? (s as Record<string, unknown>) : { '#text': s }))
    .filter((s) => s['@_S'] === 'Error' || s['@_S'] === 'Warning')
    .map((s) => unescapeClixml(String(s['#text'] ?? '')));
  return before + lines.join('');
};
