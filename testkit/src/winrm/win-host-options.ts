/** What a test can say about one simulated Windows host of a WinRM fleet. */

export type ServiceStatus = 'Running' | 'Stopped' | 'StartPending' | 'StopPending';

export interface WinServiceOptions {
  /** The service name (`Get-Service -Name`). */
  name: string;
  displayName?: string;
  /** The process image, e.g. `stationcontroller.exe`; defaults to the leaf of `path`. */
  image?: string;
  /** The image's full path, e.g. `C:\Program Files\Station\stationcontroller.exe`: locked while the service runs. */
  path?: string;
  status?: 'Running' | 'Stopped';
  /** How long the service stays StartPending / StopPending (default 300 ms). */
  startDelayMs?: number;
  stopDelayMs?: number;
  /** Stays StartPending for ever once started, like a service hung in its OnStart. */
  hangOnStart?: boolean;
}

export interface WinEventOptions {
  log: string;
  /** 1 Critical, 2 Error, 3 Warning, 4 Information. */
  level: 1 | 2 | 3 | 4;
  provider: string;
  id: number;
  message: string;
  minutesAgo: number;
}

export interface WinHostOptions {
  /** Which authentication the endpoint offers; all default true. */
  auth?: { ntlm?: boolean; basic?: boolean; certificate?: boolean };
  /** Windows' AllowUnencrypted: plain SOAP over HTTP. Default false. */
  allowUnencrypted?: boolean;
  /** WinRS MaxShellsPerUser; default 30. */
  maxShells?: number;
  /** WinRS IdleTimeout: a shell no request names for this long is deleted with its commands; default 7,200,000 (two hours). */
  shellIdleTimeoutMs?: number;
  /** Most bytes of output in one `rsp:Stream`; default 8192. */
  receiveChunkBytes?: number;
  services?: WinServiceOptions[];
  /** Extra running process names (`notepad.exe` or `notepad`). */
  processes?: string[];
  /** Windows path -> content. */
  files?: Record<string, string | Buffer>;
  /** Path prefixes under which nothing may be created, replaced, moved or deleted. */
  denyWrite?: string[];
  /**
   * Folders (with their parents) a local non-admin user created before the executor did, as
   * ProgramData lets any user: owned by that user (`<HOST>\localuser`), who may write in them.
   */
  createdByLocalUser?: string[];
  /** Folders an administrator created with ProgramData's inherited ACL, in which Users may create files. */
  openToLocalUsers?: string[];
  events?: WinEventOptions[];
  /** The next N SOAP requests answer HTTP 500 with a fault (for retry tests). */
  failNextRequests?: number;
}

export interface ResolvedAuth {
  ntlm: boolean;
  basic: boolean;
  certificate: boolean;
}

const positiveInteger = (name: string, value: number | undefined, fallback: number): number => {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer (got ${value})`);
  return value;
};

/** The endpoint's settings, checked before anything listens. */
export const resolveEndpointOptions = (o: WinHostOptions) => ({
  auth: {
    ntlm: o.auth?.ntlm ?? true,
    basic: o.auth?.basic ?? true,
    certificate: o.auth?.certificate ?? true,
  } satisfies ResolvedAuth,
  allowUnencrypted: o.allowUnencrypted ?? false,
  maxShells: positiveInteger('maxShells', o.maxShells, 30),
  shellIdleTimeoutMs: positiveInteger('shellIdleTimeoutMs', o.shellIdleTimeoutMs, 7_200_000),
  receiveChunkBytes: positiveInteger('receiveChunkBytes', o.receiveChunkBytes, 8192),
  failNextRequests: o.failNextRequests ?? 0,
});
export type EndpointOptions = ReturnType<typeof resolveEndpointOptions>;
