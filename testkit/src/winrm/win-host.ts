import { randomInt } from 'node:crypto';
import { WinFiles, type WinFileChange } from './win-files.js';
import type { ServiceStatus, WinEventOptions, WinServiceOptions } from './win-host-options.js';
import { leafOf, normalizeWinPath, parentOf, pathKey } from './win-paths.js';

/**
 * The state of one simulated Windows host: services with their start/stop latencies, processes,
 * files (on disk), and an event log. Service transitions are settled lazily from timestamps on
 * every read, so a host owns no timers and nothing here keeps the process alive.
 */

export interface ServiceView {
  name: string;
  displayName: string;
  status: ServiceStatus;
  image?: string;
  path?: string;
}

interface Service extends ServiceView {
  startDelayMs: number;
  stopDelayMs: number;
  hangOnStart: boolean;
  /** When a pending state ends (Infinity: a hung start). */
  pendingUntil?: number;
  pid?: number;
}

export interface WinProcess {
  pid: number;
  /** When it started (Get-Process' StartTime); set for the processes WinRS commands run. */
  started?: Date;
  /** The image name, as Task Manager lists it: `stationcontroller.exe` (Get-Process drops the `.exe`). */
  name: string;
  /** The image's path, when it is a file on the host (services). */
  path?: string;
  /** Win32_Process.ParentProcessId: the process that started it (a native program run from PowerShell). */
  parentPid?: number;
}

export interface WinEvent {
  log: string;
  level: 1 | 2 | 3 | 4;
  provider: string;
  id: number;
  message: string;
  time: Date;
}

/**
 * One entry of a host's change journal: what programs on the host changed, in order. Chaos tests
 * count them (one stop, one replacement, one start per host) to prove no change ran twice.
 */
export type WinChange = { time: Date } & (WinFileChange | { op: 'service-start' | 'service-stop'; name: string });

/** A service control request Windows refuses (Start-Service / Stop-Service fail with this). */
export class ServiceControlError extends Error {
  constructor(
    readonly service: ServiceView,
    readonly action: 'start' | 'stop',
  ) {
    super(
      action === 'stop'
        ? `Service '${service.displayName} (${service.name})' cannot be stopped due to the following error: Cannot stop ${service.name} service on computer '.'.`
        : `Service '${service.displayName} (${service.name})' cannot be started due to the following error: Cannot start service ${service.name} on computer '.'.`,
    );
  }
}

const DEFAULT_DELAY_MS = 300;
const STANDARD_LOGS = ['Application', 'System', 'Security', 'Setup'];
const BASE_PROCESSES = [
  'smss.exe',
  'csrss.exe',
  'wininit.exe',
  'services.exe',
  'lsass.exe',
  'svchost.exe',
  'svchost.exe',
  'winlogon.exe',
  'explorer.exe',
];
/** Services every host has, so scripts have something real-looking to query. */
const STANDARD_SERVICES: WinServiceOptions[] = [
  { name: 'WinRM', displayName: 'Windows Remote Management (WS-Management)', image: 'svchost.exe', status: 'Running' },
  {
    name: 'Spooler',
    displayName: 'Print Spooler',
    image: 'spoolsv.exe',
    path: 'C:\\Windows\\System32\\spoolsv.exe',
    status: 'Running',
  },
  { name: 'wuauserv', displayName: 'Windows Update', image: 'svchost.exe', status: 'Stopped' },
];

/** `notepad` -> `notepad.exe`: a process is listed by its image's file name. */
const imageName = (name: string): string => (/\.[A-Za-z0-9]+$/.test(name) ? name : `${name}.exe`);

export interface WinHostIdentity {
  /** `win-01` */
  name: string;
  /** `WIN-01` */
  hostname: string;
  address: string;
  username: string;
}

export class WinHost {
  readonly files: WinFiles;
  private readonly services = new Map<string, Service>();
  private readonly extraProcesses: WinProcess[] = [];
  /** The processes of running commands (WinRS or a console), and how each is terminated. */
  private readonly commandProcesses = new Map<number, { process: WinProcess; terminate: () => void }>();
  private readonly eventLog: WinEvent[] = [];
  private readonly changes: WinChange[] = [];
  private nextPid = 400 + 4 * randomInt(100);
  /** The state each service boots in. */
  private readonly bootStates = new Map<string, 'Running' | 'Stopped'>();
  /** Win32_OperatingSystem.LastBootUpTime: an hour before the host was made, then each emulated boot. */
  bootTime = new Date(Date.now() - 3_600_000);
  /** What Restart-Computer and Stop-Computer ask for: set by the fleet, which takes the endpoint down. */
  onPower: ((action: 'restart' | 'stop') => void) | undefined;

  constructor(
    readonly identity: WinHostIdentity,
    root: string,
    options: { services?: WinServiceOptions[]; processes?: string[]; events?: WinEventOptions[] } = {},
  ) {
    this.files = new WinFiles(
      root,
      (winPath) => this.processes().some((p) => p.path !== undefined && pathKey(p.path) === pathKey(winPath)),
      (change) => this.changes.push({ ...change, time: new Date() }),
    );
    this.extraProcesses.push({ pid: 4, name: 'System' });
    for (const name of [...BASE_PROCESSES, ...(options.processes ?? [])])
      this.extraProcesses.push({ pid: this.pid(), name: imageName(name) });
    for (const service of [...STANDARD_SERVICES, ...(options.services ?? [])]) {
      this.setService(service.name, service);
      this.bootStates.set(service.name, service.status ?? 'Stopped');
    }
    for (const event of options.events ?? []) this.addEvent(event);
  }

  /** A new boot: a later LastBootUpTime, every service in the state it boots in, with a new process. */
  boot(): void {
    this.bootTime = new Date();
    for (const [name, status] of this.bootStates) {
      this.setService(name, { status: 'Stopped' });
      this.setService(name, { status });
    }
  }

  /** Windows process ids are multiples of 4. */
  private pid(): number {
    this.nextPid += 4 * (1 + randomInt(40));
    return this.nextPid;
  }

  private settle(service: Service, now = Date.now()): Service {
    if (service.pendingUntil === undefined || service.pendingUntil > now) return service;
    service.pendingUntil = undefined;
    if (service.status === 'StartPending') service.status = 'Running';
    if (service.status === 'StopPending') {
      service.status = 'Stopped';
      service.pid = undefined;
    }
    return service;
  }

  private find(name: string): Service | undefined {
    const service = this.services.get(name.toLowerCase());
    return service && this.settle(service);
  }

  service(name: string): ServiceView | undefined {
    const s = this.find(name);
    return s && { name: s.name, displayName: s.displayName, status: s.status, image: s.image, path: s.path };
  }

  serviceNames(): string[] {
    return [...this.services.values()].map((s) => s.name);
  }

  /** Creates or changes a service; `status` applies at once, `hangOnStart: false` releases a hung start. */
  setService(name: string, patch: Partial<WinServiceOptions>): void {
    const existing = this.find(name);
    const image = patch.image ?? (patch.path ? leafOf(patch.path) : undefined);
    const service: Service = existing ?? {
      name,
      displayName: patch.displayName ?? name,
      status: 'Stopped',
      startDelayMs: DEFAULT_DELAY_MS,
      stopDelayMs: DEFAULT_DELAY_MS,
      hangOnStart: false,
    };
    if (patch.displayName !== undefined) service.displayName = patch.displayName;
    if (image !== undefined) service.image = image;
    if (patch.path !== undefined) service.path = patch.path;
    if (patch.startDelayMs !== undefined) service.startDelayMs = patch.startDelayMs;
    if (patch.stopDelayMs !== undefined) service.stopDelayMs = patch.stopDelayMs;
    if (patch.hangOnStart !== undefined) {
      service.hangOnStart = patch.hangOnStart;
      if (service.status === 'StartPending')
        service.pendingUntil = patch.hangOnStart ? Infinity : Date.now() + service.startDelayMs;
    }
    if (patch.status !== undefined) {
      service.status = patch.status;
      service.pendingUntil = undefined;
      service.pid = patch.status === 'Running' ? (service.pid ?? this.pid()) : undefined;
    }
    this.services.set(name.toLowerCase(), service);
  }

  /** `Start-Service -NoWait`: Stopped -> StartPending (its process starts now) -> Running after the delay. */
  startService(name: string): void {
    const service = this.find(name);
    if (!service) throw new Error(`no service ${name}`);
    if (service.status === 'Running' || service.status === 'StartPending') return;
    if (service.status === 'StopPending') throw new ServiceControlError(service, 'start');
    service.status = 'StartPending';
    this.changes.push({ op: 'service-start', name: service.name, time: new Date() });
    service.pid = this.pid();
    service.pendingUntil = service.hangOnStart ? Infinity : Date.now() + service.startDelayMs;
  }

  /** `Stop-Service -NoWait`: a service still starting does not accept the stop control. */
  stopService(name: string): void {
    const service = this.find(name);
    if (!service) throw new Error(`no service ${name}`);
    if (service.status === 'Stopped' || service.status === 'StopPending') return;
    if (service.status === 'StartPending') throw new ServiceControlError(service, 'stop');
    service.status = 'StopPending';
    this.changes.push({ op: 'service-stop', name: service.name, time: new Date() });
    service.pendingUntil = Date.now() + service.stopDelayMs;
  }

  /** Running processes, by name then pid (the order Get-Process lists them in). */
  processes(): WinProcess[] {
    const fromServices: WinProcess[] = [];
    for (const service of this.services.values()) {
      this.settle(service);
      if (service.pid !== undefined)
        fromServices.push({ pid: service.pid, name: imageName(service.image ?? service.name), path: service.path });
    }
    const commands = [...this.commandProcesses.values()].map((c) => c.process);
    return [...this.extraProcesses, ...fromServices, ...commands].sort(
      (a, b) => a.name.localeCompare(b.name, 'en', { sensitivity: 'base' }) || a.pid - b.pid,
    );
  }

  addProcess(name: string): number {
    const pid = this.pid();
    this.extraProcesses.push({ pid, name: imageName(name), started: new Date() });
    return pid;
  }

  /** A command's process starts (or a program a command's process starts): it is listed until it ends, and Stop-Process terminates it. */
  startCommandProcess(name: string, terminate: () => void, parentPid?: number): WinProcess {
    const process: WinProcess = {
      pid: this.pid(),
      name: imageName(name),
      started: new Date(),
      ...(parentPid !== undefined && { parentPid }),
    };
    this.commandProcesses.set(process.pid, { process, terminate });
    return process;
  }

  endCommandProcess(pid: number): void {
    this.commandProcesses.delete(pid);
  }

  /** `Get-Process -Id`. */
  process(pid: number): WinProcess | undefined {
    return this.processes().find((p) => p.pid === pid);
  }

  /** The processes `pid` started, and theirs (`Get-CimInstance Win32_Process -Filter "ParentProcessId = ..."`, recursively). */
  descendants(pid: number): WinProcess[] {
    const children = [...this.commandProcesses.values()].map((c) => c.process).filter((p) => p.parentPid === pid);
    return children.flatMap((c) => [c, ...this.descendants(c.pid)]);
  }

  /** `Stop-Process -Id -Force`: only that process ends as if terminated (its files close); what it started runs on. */
  killProcess(pid: number): boolean {
    const command = this.commandProcesses.get(pid);
    if (command) {
      this.commandProcesses.delete(pid);
      command.terminate();
      return true;
    }
    const at = this.extraProcesses.findIndex((p) => p.pid === pid);
    if (at === -1) return false;
    this.extraProcesses.splice(at, 1);
    return true;
  }

  addEvent(event: WinEventOptions): void {
    this.eventLog.push({
      log: event.log,
      level: event.level,
      provider: event.provider,
      id: event.id,
      message: event.message,
      time: new Date(Date.now() - event.minutesAgo * 60_000),
    });
  }

  /** The log's name as Windows spells it, or undefined when the host has no such log. */
  logName(log: string): string | undefined {
    return [...STANDARD_LOGS, ...this.eventLog.map((e) => e.log)].find((l) => l.toLowerCase() === log.toLowerCase());
  }

  /** What programs changed on this host (services started or stopped, files written, copied, moved, removed), oldest first; set-up is not in it. */
  journal(): readonly WinChange[] {
    return this.changes;
  }

  events(): readonly WinEvent[] {
    return this.eventLog;
  }

  readFile(winPath: string): Promise<Buffer | null> {
    return this.files.read(winPath);
  }

  writeFile(winPath: string, data: string | Buffer): Promise<void> {
    return this.files.seed(winPath, data);
  }

  exists(winPath: string): Promise<boolean> {
    return this.files.exists(winPath);
  }

  /** The local non-admin account that plants files where ProgramData lets it. */
  get localUser(): string {
    return `${this.identity.hostname}\\localuser`;
  }

  /** Set-up: the local user creates this folder (and any missing parent), or with `data` this file: it owns them and may write in them. */
  async createAsLocalUser(winPath: string, data?: string | Buffer): Promise<void> {
    const created: string[] = [];
    for (
      let dir = data === undefined ? normalizeWinPath(winPath) : parentOf(winPath);
      dir !== '' && !(await this.files.exists(dir));
      dir = parentOf(dir)
    )
      created.push(dir);
    if (data === undefined) await this.files.createDirectory(winPath);
    else await this.files.seed(winPath, data);
    for (const p of [...created, ...(data === undefined ? [] : [winPath])]) this.files.ownBy(p, this.localUser);
  }

  /** Set-up: the folder exists with ProgramData's inherited ACL, so Users may create files in it. */
  async openToLocalUsers(winPath: string): Promise<void> {
    await this.files.createDirectory(winPath);
    this.files.openToLocalUsers(winPath);
  }

  denyWrite(prefix: string): void {
    this.files.denyWrite(prefix);
  }

  allowWrite(prefix: string): void {
    this.files.allowWrite(prefix);
  }
}
