import { copyFile, mkdir, open, readdir, readFile, rename, rm, rmdir, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { hostFsPath, isUnder, normalizeWinPath, parentOf, pathKey } from './win-paths.js';

/** A file open for writing, shared with no one (.NET's File.Open default, FileShare.None) until closed. */
export interface WinFileHandle {
  write(data: string | Buffer): Promise<void>;
  close(): Promise<void>;
}

/**
 * A simulated host's files, kept on disk under its own directory. Writes go through the same two
 * checks Windows makes: the write-deny ACL (UnauthorizedAccessException) and the image of a running
 * process, which cannot be replaced (a sharing violation, IOException). Messages are .NET's.
 */

export type WinIoKind = 'denied' | 'in-use' | 'not-found' | 'io';

export class WinIoError extends Error {
  constructor(
    readonly kind: WinIoKind,
    message: string,
    /** The .NET exception a PowerShell MethodInvocationException wraps (what `catch [type]` binds to `$_`). */
    readonly inner?: WinIoError,
  ) {
    super(message);
  }
}

export const accessDenied = (winPath: string): WinIoError =>
  new WinIoError('denied', `Access to the path '${winPath}' is denied.`);
const inUse = (winPath: string): WinIoError =>
  new WinIoError(
    'in-use',
    `The process cannot access the file '${winPath}' because it is being used by another process.`,
  );
const partNotFound = (winPath: string): WinIoError =>
  new WinIoError('not-found', `Could not find a part of the path '${winPath}'.`);
const pathNotFound = (winPath: string): WinIoError =>
  new WinIoError('not-found', `Cannot find path '${winPath}' because it does not exist.`);

const kindOf = async (fsPath: string): Promise<'file' | 'dir' | null> => {
  try {
    const s = await stat(fsPath);
    return s.isDirectory() ? 'dir' : 'file';
  } catch {
    return null;
  }
};

/** A change a program made to the host's files (not set-up through seed), for the host's change journal. */
export interface WinFileChange {
  op: 'write' | 'copy' | 'move' | 'remove';
  path: string;
  /** The source of a copy or move. */
  from?: string;
}

export class WinFiles {
  private readonly denied: string[] = [];
  /**
   * Files and folders another local account owns (path key -> its name), and folders whose ACL lets
   * other accounts create files (ProgramData's inherited Users CI WD,AD). Everything else belongs to
   * SYSTEM, Administrators or the executing account, with no write rights for anyone else.
   */
  private readonly foreignOwners = new Map<string, string>();
  private readonly openToUsers = new Set<string>();
  /** Files some process holds open for writing: nobody else may open, replace, move or delete them. */
  private readonly held = new Set<string>();

  constructor(
    private readonly root: string,
    /** True when the file is the image of a running process. */
    private readonly isImageInUse: (winPath: string) => boolean,
    /** Told of each change once it is made. */
    private readonly onChange: (change: WinFileChange) => void = () => undefined,
  ) {}

  private fs(winPath: string): string {
    return hostFsPath(this.root, winPath);
  }

  denyWrite(prefix: string): void {
    const normal = normalizeWinPath(prefix);
    if (!this.denied.some((p) => p.toLowerCase() === normal.toLowerCase())) this.denied.push(normal);
  }

  allowWrite(prefix: string): void {
    const key = normalizeWinPath(prefix).toLowerCase();
    const at = this.denied.findIndex((p) => p.toLowerCase() === key);
    if (at !== -1) this.denied.splice(at, 1);
  }

  /** Set-up: `account` made this file or folder (so it owns it) and others may write in it. */
  ownBy(winPath: string, account: string): void {
    this.foreignOwners.set(pathKey(winPath), account);
    this.openToUsers.add(pathKey(winPath));
  }

  /** Set-up: a folder an administrator made with ProgramData's inherited ACL (Users may create files in it). */
  openToLocalUsers(winPath: string): void {
    this.openToUsers.add(pathKey(winPath));
  }

  /** `(Get-Acl p).GetOwner(...)` when it is not SYSTEM, Administrators or the executing account; undefined otherwise. */
  foreignOwner(winPath: string): string | undefined {
    return this.foreignOwners.get(pathKey(winPath));
  }

  /** Whether the ACL gives another account write or create rights (what Test-OpscPrivate looks for). */
  othersMayWrite(winPath: string): boolean {
    return this.openToUsers.has(pathKey(winPath));
  }

  private checkWritable(winPath: string): void {
    if (this.denied.some((prefix) => isUnder(winPath, prefix))) throw accessDenied(winPath);
  }

  private checkReplaceable(winPath: string): void {
    this.checkWritable(winPath);
    if (this.isImageInUse(winPath) || this.held.has(pathKey(winPath))) throw inUse(winPath);
  }

  async isFile(winPath: string): Promise<boolean> {
    return (await kindOf(this.fs(winPath))) === 'file';
  }

  async isDirectory(winPath: string): Promise<boolean> {
    return (await kindOf(this.fs(winPath))) === 'dir';
  }

  async exists(winPath: string): Promise<boolean> {
    return (await kindOf(this.fs(winPath))) !== null;
  }

  async read(winPath: string): Promise<Buffer | null> {
    if (!(await this.isFile(winPath))) return null;
    return readFile(this.fs(winPath));
  }

  /** Set-up and assertions: writes without the checks a program on the host is subject to. */
  async seed(winPath: string, data: string | Buffer): Promise<void> {
    const target = this.fs(winPath);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, data);
  }

  /** `New-Item -ItemType Directory -Force`: parents too; the first directory to create is the one checked. */
  async createDirectory(winPath: string): Promise<void> {
    const chain: string[] = [];
    for (let dir = normalizeWinPath(winPath); dir !== ''; dir = parentOf(dir)) chain.unshift(dir);
    for (const dir of chain) {
      const kind = await kindOf(this.fs(dir));
      if (kind === 'dir') continue;
      if (kind === 'file') throw new WinIoError('io', `An item with the specified name ${dir} already exists.`);
      this.checkWritable(dir);
      await mkdir(this.fs(dir));
    }
  }

  /** `[IO.File]::Open(path, Create, Write)`: held exclusively until closed (a process that ends closes its files). */
  async openForWrite(winPath: string): Promise<WinFileHandle> {
    this.checkReplaceable(winPath);
    if (!(await this.isDirectory(parentOf(winPath)))) throw partNotFound(winPath);
    const key = pathKey(winPath);
    this.held.add(key);
    try {
      const handle = await open(this.fs(winPath), 'w');
      this.onChange({ op: 'write', path: normalizeWinPath(winPath) });
      return {
        write: async (data) => void (await (typeof data === 'string' ? handle.write(data) : handle.write(data))),
        close: async () => {
          this.held.delete(key);
          await handle.close();
        },
      };
    } catch (err) {
      this.held.delete(key);
      throw err;
    }
  }

  /** `Copy-Item -LiteralPath src -Destination dst -Force` for a file. */
  async copy(source: string, destination: string): Promise<void> {
    if (!(await this.isFile(source))) throw pathNotFound(source);
    this.checkReplaceable(destination);
    if (!(await this.isDirectory(parentOf(destination)))) throw partNotFound(destination);
    await copyFile(this.fs(source), this.fs(destination));
    this.onChange({ op: 'copy', path: normalizeWinPath(destination), from: normalizeWinPath(source) });
  }

  /** `Move-Item -LiteralPath src -Destination dst -Force` for a file: the source is deleted, the destination replaced. */
  async move(source: string, destination: string): Promise<void> {
    if (!(await this.isFile(source))) throw pathNotFound(source);
    this.checkWritable(source);
    if (this.held.has(pathKey(source))) throw inUse(source);
    if (await this.isDirectory(destination))
      throw new WinIoError('io', 'Cannot create a file when that file already exists.');
    this.checkReplaceable(destination);
    if (!(await this.isDirectory(parentOf(destination)))) throw partNotFound(destination);
    await rename(this.fs(source), this.fs(destination));
    this.onChange({ op: 'move', path: normalizeWinPath(destination), from: normalizeWinPath(source) });
  }

  /** `Get-ChildItem -LiteralPath p -Recurse -Force`: every file and folder below, with its LastWriteTime (names as stored: lower case). */
  async list(winPath: string): Promise<{ path: string; directory: boolean; modified: Date }[]> {
    if (!(await this.isDirectory(winPath))) return [];
    const entries = await readdir(this.fs(winPath), { recursive: true, withFileTypes: true });
    const root = this.fs(winPath);
    return Promise.all(
      entries.map(async (e) => {
        const full = path.join(e.parentPath, e.name);
        const relative = path.relative(root, full).split(path.sep).join('\\');
        return {
          path: `${normalizeWinPath(winPath)}\\${relative}`,
          directory: e.isDirectory(),
          modified: (await stat(full)).mtime,
        };
      }),
    );
  }

  /** Sets a file's LastWriteTime (set-up: an old file). */
  async touch(winPath: string, modified: Date): Promise<void> {
    await utimes(this.fs(winPath), modified, modified);
  }

  /** `Remove-Item -LiteralPath p -Force` for an empty folder. */
  async removeEmptyDirectory(winPath: string): Promise<void> {
    if (!(await this.isDirectory(winPath))) throw pathNotFound(winPath);
    this.checkWritable(winPath);
    await rmdir(this.fs(winPath));
  }

  /** `Remove-Item -LiteralPath p -Force` for a file. */
  async remove(winPath: string): Promise<void> {
    if (!(await this.exists(winPath))) throw pathNotFound(winPath);
    this.checkReplaceable(winPath);
    await rm(this.fs(winPath), { recursive: true, force: true });
    this.foreignOwners.delete(pathKey(winPath));
    this.openToUsers.delete(pathKey(winPath));
    this.onChange({ op: 'remove', path: normalizeWinPath(winPath) });
  }
}
