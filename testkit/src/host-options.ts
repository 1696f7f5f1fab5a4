import path from 'node:path';
import { PRIVATE_MOUNTS } from './paths.js';

export interface FleetHostOptions {
  /**
   * 'key+password' (default): key and password both accepted; 'keyboard-interactive': only
   * keyboard-interactive (PasswordAuthentication no, KbdInteractiveAuthentication yes, PubkeyAuthentication no).
   */
  auth?: 'key+password' | 'keyboard-interactive';
  /**
   * sudo for the host user: 'nopasswd' (default), 'password' (asks the user's password every time,
   * timestamp_timeout=0), 'none' (no sudo rights). sudo runs commands as the unprivileged opsc-fleet-root.
   */
  sudo?: 'nopasswd' | 'password' | 'none';
  /** Init system the host pretends to run: 'systemd' (default; `systemctl` and `service`) or 'sysv' (only `service`). */
  init?: 'systemd' | 'sysv';
  /** Package manager the host pretends to have: 'apt' (default), 'dnf', 'yum'. Only that one's shims are on PATH. */
  packageManager?: 'apt' | 'dnf' | 'yum';
  /**
   * Emulated services and their initial state, default { nginx: 'active' }. An active service is
   * also enabled, so it comes back when the host restarts. Names are at most 15 characters (the
   * kernel's process-name length, so `pgrep -x <name>` finds the service's process).
   */
  services?: Record<string, 'active' | 'inactive'>;
  /**
   * Emulated packages: installed version (null = not installed) and the version an update/install
   * brings. Default { nginx: { installed: '1.22.1-9', available: '1.24.0-1' } }. A package named
   * `broken-*` always fails to install (exit 100).
   */
  packages?: Record<string, { installed: string | null; available: string }>;
  /**
   * Files to create in the host's private filesystem, absolute path -> content, e.g.
   * { '/etc/nginx/nginx.conf': '...' }. Only under the private mount points: /etc/nginx, /var/backups, /opt, /tmp, /var/lib/opsconductor.
   */
  files?: Record<string, string>;
}

export type ResolvedHostOptions = Required<Omit<FleetHostOptions, 'files'>>;

/** A host file: its path on the host and where it lives on the machine. */
export interface HostFile {
  hostPath: string;
  /** Relative to the host's data directory, e.g. `nginx/nginx.conf`. */
  dataPath: string;
  content: string;
}

// 15 characters: the kernel's comm length, which `pgrep -x` matches against.
const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,14}$/;
const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]*$/;
const VERSION = /^[A-Za-z0-9.+~:_-]+$/;
const DEFAULT_SERVICES: NonNullable<FleetHostOptions['services']> = { nginx: 'active' };
const DEFAULT_PACKAGES: NonNullable<FleetHostOptions['packages']> = {
  nginx: { installed: '1.22.1-9', available: '1.24.0-1' },
};
const FILE_ROOTS = Object.entries(PRIVATE_MOUNTS).filter(([mount]) => mount !== '/usr/local/sbin');

const oneOf = <T extends string>(
  host: string,
  field: string,
  value: T | undefined,
  allowed: readonly T[],
  fallback: T,
): T => {
  if (value === undefined) return fallback;
  if (!allowed.includes(value))
    throw new Error(`${host}: ${field} must be one of ${allowed.join(', ')} (got ${String(value)})`);
  return value;
};

const resolveFile = (host: string, hostPath: string, content: string): HostFile => {
  if (typeof content !== 'string') throw new Error(`${host}: the content of ${hostPath} must be a string`);
  if (!path.posix.isAbsolute(hostPath) || path.posix.normalize(hostPath) !== hostPath) {
    throw new Error(`${host}: file path ${hostPath} must be absolute and normalised`);
  }
  for (const [mount, dir] of FILE_ROOTS) {
    if (hostPath.startsWith(`${mount}/`))
      return { hostPath, dataPath: `${dir}${hostPath.slice(mount.length)}`, content };
  }
  throw new Error(
    `${host}: file ${hostPath} is outside the host's private directories (${FILE_ROOTS.map(([m]) => m).join(', ')})`,
  );
};

/** Fills in the defaults and checks every name and version before anything touches the machine. */
export const resolveHostOptions = (
  host: string,
  options: FleetHostOptions,
): { options: ResolvedHostOptions; files: HostFile[] } => {
  const services: Record<string, 'active' | 'inactive'> = {};
  for (const [raw, state] of Object.entries(options.services ?? DEFAULT_SERVICES)) {
    const name = raw.replace(/\.service$/, '');
    if (!SERVICE_NAME.test(name))
      throw new Error(`${host}: service name ${raw} is not valid (letters, digits, _.@-, at most 15 characters)`);
    services[name] = oneOf(host, `services.${name}`, state, ['active', 'inactive'], 'active');
  }
  const packages: Record<string, { installed: string | null; available: string }> = {};
  for (const [name, spec] of Object.entries(options.packages ?? DEFAULT_PACKAGES)) {
    if (!PACKAGE_NAME.test(name)) throw new Error(`${host}: package name ${name} is not valid`);
    if (!VERSION.test(spec.available) || (spec.installed !== null && !VERSION.test(spec.installed))) {
      throw new Error(`${host}: package ${name} has an invalid version`);
    }
    packages[name] = { installed: spec.installed, available: spec.available };
  }
  return {
    options: {
      auth: oneOf(host, 'auth', options.auth, ['key+password', 'keyboard-interactive'], 'key+password'),
      sudo: oneOf(host, 'sudo', options.sudo, ['nopasswd', 'password', 'none'], 'nopasswd'),
      init: oneOf(host, 'init', options.init, ['systemd', 'sysv'], 'systemd'),
      packageManager: oneOf(host, 'packageManager', options.packageManager, ['apt', 'dnf', 'yum'], 'apt'),
      services,
      packages,
    },
    files: Object.entries(options.files ?? {}).map(([hostPath, content]) => resolveFile(host, hostPath, content)),
  };
};
