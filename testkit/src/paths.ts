import { fileURLToPath } from 'node:url';

/** Per-host data, the client key and the lock. The shims hard-code `${FLEET_ROOT}/self` (fleet-common.sh). */
export const FLEET_ROOT = '/var/lib/opsc-fleet';
export const LOCK_FILE = `${FLEET_ROOT}/.lock`;
/** Inside a host's mount namespace, a bind mount of that host's own directory. */
export const SELF_MOUNT = `${FLEET_ROOT}/self`;
export const CLIENT_DIR = `${FLEET_ROOT}/client`;
/** Overlay whiteouts (0:0 character devices) named like Debian's apt and dpkg tools in /usr/bin. */
export const APT_WHITEOUTS = `${FLEET_ROOT}/apt-whiteouts`;
export const SUDOERS_FILE = '/etc/sudoers.d/opsc-fleet';

export const FLEET_GROUP = 'opsc-fleet';
/** What `sudo` runs as on a fleet host: unprivileged, so nothing a test does can change the real machine. */
export const FLEET_ROOT_USER = 'opsc-fleet-root';

/** The shell shims, found beside `src/` and `dist/` alike. */
export const SHIMS_DIR = fileURLToPath(new URL('../shims/', import.meta.url));

/** root's PATH on a Debian host: the shims in /usr/local/sbin come first, as they do in sudo's secure_path. */
export const HOST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Mount points each host has its own copy of -> the directory under the host's data directory. */
export const PRIVATE_MOUNTS = {
  '/usr/local/sbin': 'sbin',
  '/etc/nginx': 'nginx',
  '/var/backups': 'backups',
  '/opt': 'opt',
  '/tmp': 'tmp',
  // Where the executor keeps run markers of `become` steps (root's state on a real host).
  '/var/lib/opsconductor': 'varlib-opsconductor',
} as const;

export const hostDir = (octet: number): string => `${FLEET_ROOT}/h${octet}`;
export const hostUser = (octet: number): string => `ofl${octet}`;
