import path from 'node:path';

/**
 * Windows paths on a simulated host. Windows compares paths without regard to case, so a path's
 * identity is its lower-cased, normalised form; messages keep the spelling the caller used.
 */

export class WinPathError extends Error {}

const DRIVE = /^([A-Za-z]):(?:[\\/]|$)/;

/** The drive letter and the path's segments, `.` and `..` resolved; throws on a relative path. */
const split = (winPath: string): { drive: string; segments: string[] } => {
  const match = DRIVE.exec(winPath);
  if (!match?.[1]) throw new WinPathError(`not an absolute Windows path: ${winPath}`);
  const segments: string[] = [];
  for (const part of winPath.slice(2).split(/[\\/]+/)) {
    if (part === '' || part === '.') continue;
    if (part === '..') segments.pop();
    else if (/[\0<>:"|?*]/.test(part)) throw new WinPathError(`Illegal characters in path: ${winPath}`);
    else segments.push(part);
  }
  return { drive: match[1].toUpperCase(), segments };
};

/** `c:/A//b\.\c.txt` -> `C:\A\b\c.txt`: one spelling for a path, its case kept. */
export const normalizeWinPath = (winPath: string): string => {
  const { drive, segments } = split(winPath);
  return `${drive}:\\${segments.join('\\')}`;
};

/** The key two spellings of one path share. */
export const pathKey = (winPath: string): string => normalizeWinPath(winPath).toLowerCase();

/** Where the host keeps the file on this machine: `C:\A\b.txt` -> `<root>/c/a/b.txt`. */
export const hostFsPath = (root: string, winPath: string): string => {
  const { drive, segments } = split(winPath);
  return path.join(root, drive.toLowerCase(), ...segments.map((s) => s.toLowerCase()));
};

/** `Split-Path -Parent`: `C:\a\b.txt` -> `C:\a`, `C:\a` -> `C:\`, `C:\` -> ''. */
export const parentOf = (winPath: string): string => {
  const { drive, segments } = split(winPath);
  if (segments.length === 0) return '';
  return `${drive}:\\${segments.slice(0, -1).join('\\')}`;
};

/** `Split-Path -Leaf`. */
export const leafOf = (winPath: string): string => split(winPath).segments.at(-1) ?? '';

/** `Join-Path`: exactly one separator between the parts. */
export const joinWin = (dir: string, leaf: string): string =>
  `${dir.replace(/[\\/]+$/, '')}\\${leaf.replace(/^[\\/]+/, '')}`;

/** True when `winPath` is `prefix` or inside it (`C:\App` covers `C:\App\x` but not `C:\Apple`). */
export const isUnder = (winPath: string, prefix: string): boolean => {
  const p = pathKey(winPath);
  const q = pathKey(prefix);
  return p === q || p.startsWith(q.endsWith('\\') ? q : `${q}\\`);
};
