/**
 * How Windows PowerShell run over WinRM reports errors on stderr: `#< CLIXML` and the error records
 * serialised as `<S S="Error">` strings, one per line of the text a console would have shown.
 */

const CLIXML_NS = 'http://schemas.microsoft.com/powershell/2004/04';

const escape = (text: string): string =>
  text
    .replace(/_x([0-9A-Fa-f]{4})_/g, '_x005F_x$1_')
    .replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c] ?? c)
    .replace(/[\x00-\x1f]/g, (c) => `_x${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}_`);

/** One document for all the records a process wrote, as its stderr ends. */
export const clixmlErrors = (records: readonly (readonly string[])[]): string =>
  `#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="${CLIXML_NS}">` +
  records
    .flat()
    .map((line) => `<S S="Error">${escape(`${line}\r\n`)}</S>`)
    .join('') +
  `</Objs>`;

export interface ErrorRecordText {
  /** What precedes ` : ` on the first line: the command, or the statement for Write-Error. */
  source: string;
  message: string;
  /** `At line:L char:C` and the underlined statement, when PowerShell knows the position. */
  position?: { line: number; char: number; text: string; length: number };
  category: string;
  errorId: string;
}

/** The lines of an error record as the console host formats it (PowerShell 5.1). */
export const errorRecordLines = (r: ErrorRecordText): string[] => [
  `${r.source} : ${r.message}`,
  ...(r.position
    ? [
        `At line:${r.position.line} char:${r.position.char}`,
        `+ ${r.position.text}`,
        `+ ${' '.repeat(r.position.char - 1)}${'~'.repeat(Math.max(1, r.position.length))}`,
      ]
    : []),
  `    + CategoryInfo          : ${r.category}`,
  `    + FullyQualifiedErrorId : ${r.errorId}`,
  ' ',
];

/** The record of a command PowerShell cannot find. */
export const commandNotFound = (term: string, position?: ErrorRecordText['position']): string[] =>
  errorRecordLines({
    source: term,
    message: `The term '${term}' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.`,
    position,
    category: `ObjectNotFound: (${term}:String) [], CommandNotFoundException`,
    errorId: 'CommandNotFoundException',
  });
