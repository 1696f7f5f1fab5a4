import type { WinFiles } from './win-files.js';

/**
 * `Initialize-OpscFolder $root $sub` (activities' private-folder.ts): a missing root is created
 * private, then the root and `sub` (created below it) are checked; the answer is why one of them
 * may not be used (another owner, or write rights for others), or null.
 */
export const initializeOpscFolder = async (files: WinFiles, root: string, sub: string): Promise<string | null> => {
  if (!(await files.isDirectory(root))) await files.createDirectory(root);
  const why = notPrivate(files, root);
  if (why) return why;
  await files.createDirectory(sub);
  return notPrivate(files, sub);
};

/** `Test-OpscPrivate`: the owner first, then any other account's write rights. */
const notPrivate = (files: WinFiles, winPath: string): string | null => {
  const owner = files.foreignOwner(winPath);
  if (owner) return `${winPath} is owned by ${owner}`;
  if (files.othersMayWrite(winPath)) return `BUILTIN\\Users may write to ${winPath}`;
  return null;
};

/** What a refusal says after the reason (activities' NOT_PRIVATE_ADVICE, passed in the prologue as `$opsc_advice` to the upload). */
export const NOT_PRIVATE_ADVICE =
  'only SYSTEM, Administrators and the executing account may own or write it (remove the folder, or make it so); a change that a retry could repeat is not made';
