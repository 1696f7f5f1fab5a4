import { DEFAULT_BACKUP_DIR, type LinuxOperation } from '@opsc/contracts';
import { regexLiteral, shJoin, shQuote } from './shell-quote.js';

/** Operations that become one script run over an exec channel (the file transfers use SFTP). */
export type ScriptOperation = Exclude<
  LinuxOperation,
  | { op: 'file-copy' | 'file-fetch' | 'host-key-enrol' | 'reboot' | 'shutdown' }
  | { op: 'service-check' | 'package-check' | 'file-check' | 'file-restore-check' }
  | { op: 'config-backup-check' | 'config-restore-check' }
>;

export interface ScriptContext {
  jobId: string;
  stepId: string;
  /** A per-run random token: only lines carrying it are read back as facts, so output cannot forge them. */
  nonce: string;
}

/** A POSIX sh script. Every operator-supplied value in it went through `shQuote`. */
export interface RemoteScript {
  shell: 'sh' | 'bash';
  script: string;
  /** Whether `@@opsc-<nonce>` fact lines are to be read from stdout. */
  reportsFacts: boolean;
  /**
   * The script starts its work apart from the connection and prints the pid line itself, naming
   * that work's process group, and bounds it with `timeout` (see `withRunMarker`).
   */
  detached?: boolean;
  /**
   * Run by a detached change's runner once the change has ended, however it ended (a file-copy's
   * staged upload goes here: only the runner knows when nothing reads it any more).
   */
  cleanup?: string;
}

/**
 * Defines `fact key value`, which prints a fact line carrying the nonce or, under a run marker (see
 * run-marker-script.ts), appends `key=value` to $OPSC_FACTS for the marker to keep: the attempt that
 * reports the run prints the marker's facts with its own nonce.
 */
export const factFn = (nonce: string) => `export LC_ALL=C
fact() {
  if [ -n "\${OPSC_FACTS:-}" ]; then printf '%s=%s\\n' "$1" "$2" >> "$OPSC_FACTS" || :
  else printf '@@opsc-%s %s=%s\\n' ${shQuote(nonce)} "$1" "$2"; fi
}`;

/** Picks systemd when it is the running init, else SysV `service`, else whatever exists. */
export const SERVICE_MANAGER = `svc_mgr() {
  if command -v systemctl >/dev/null 2>&1; then
    case "$(systemctl is-system-running 2>/dev/null)" in running|degraded|starting|initializing|maintenance) echo systemctl; return;; esac
  fi
  if command -v service >/dev/null 2>&1; then echo service; return; fi
  if command -v systemctl >/dev/null 2>&1; then echo systemctl; return; fi
  echo none
}
svc_state() {
  case "$mgr" in
    systemctl) s=$(systemctl is-active "$1" 2>/dev/null); echo "\${s:-unknown}";;
    service) if service "$1" status >/dev/null 2>&1; then echo active; else echo inactive; fi;;
  esac
}
mgr=$(svc_mgr)
if [ "$mgr" = none ]; then echo 'neither systemctl nor service is available on this host' >&2; exit 127; fi
fact manager "$mgr"`;

export const PACKAGE_MANAGER = `if command -v apt-get >/dev/null 2>&1; then pm=apt
elif command -v dnf >/dev/null 2>&1; then pm=dnf
elif command -v yum >/dev/null 2>&1; then pm=yum
else echo 'no supported package manager (apt, dnf or yum) on this host' >&2; exit 127; fi
pkg_version() {
  case "$pm" in
    apt) dpkg-query -W -f='\${Version}' "$1" 2>/dev/null;;
    *) rpm -q --qf '%{VERSION}-%{RELEASE}' "$1" 2>/dev/null;;
  esac
}
fact manager "$pm"`;

const serviceScript = (op: Extract<ScriptOperation, { op: 'service' }>): string => {
  const name = shQuote(op.name);
  const verb = op.action;
  const systemctl =
    verb === 'status'
      ? `systemctl status --no-pager ${name}; rc=$?; [ "$rc" -le 3 ] && rc=0`
      : `systemctl ${verb} ${name}; rc=$?`;
  const sysv =
    verb === 'enable' || verb === 'disable'
      ? `if command -v update-rc.d >/dev/null 2>&1; then update-rc.d ${name} ${verb}; rc=$?
    elif command -v chkconfig >/dev/null 2>&1; then chkconfig ${name} ${verb === 'enable' ? 'on' : 'off'}; rc=$?
    else echo 'enable/disable needs systemd, update-rc.d or chkconfig' >&2; rc=127; fi`
      : verb === 'status'
        ? `service ${name} status; rc=$?; [ "$rc" -le 3 ] && rc=0`
        : `service ${name} ${verb}; rc=$?`;
  return `${SERVICE_MANAGER}
case "$mgr" in
  systemctl) ${systemctl};;
  service) ${sysv};;
esac
fact state "$(svc_state ${name})"
exit "$rc"`;
};

const serviceWaitScript = (op: Extract<ScriptOperation, { op: 'service-wait' }>): string => `${SERVICE_MANAGER}
want=${shQuote(op.state)}
deadline=$(( $(date +%s) + ${op.timeoutSeconds} ))
while :; do
  state=$(svc_state ${shQuote(op.name)})
  if [ "$state" = "$want" ]; then fact state "$state"; echo ${shQuote(op.name)}" is $state"; exit 0; fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    fact state "$state"
    echo ${shQuote(op.name)}" is $state, not $want, after ${op.timeoutSeconds}s" >&2
    exit 1
  fi
  sleep ${op.intervalSeconds}
done`;

const processCheckScript = (op: Extract<ScriptOperation, { op: 'process-check' }>): string => {
  // The name never appears whole in this script, which is itself a process: for -f the pattern puts
  // its first character in brackets, and the name is assembled from two quoted halves.
  const literal = regexLiteral(op.name);
  const pattern = op.match === 'exact' ? literal : `[${literal.slice(0, 1)}]${literal.slice(1)}`;
  const expect =
    op.expect === 'running'
      ? `[ -n "$pids" ] || { echo "$name is not running" >&2; exit 1; }`
      : op.expect === 'stopped'
        ? `[ -z "$pids" ] || { echo "$name is running (pid $pids)" >&2; exit 1; }`
        : '';
  return `name=${shQuote(op.name.slice(0, 1))}${shQuote(op.name.slice(1))}
pids=$(pgrep ${op.match === 'exact' ? '-x' : '-f'} ${shQuote(pattern)} | tr '\\n' ' ' | sed 's/ $//')
if [ -n "$pids" ]; then fact running true; echo "$name is running (pid $pids)"; else fact running false; echo "$name is not running"; fi
fact pids "$pids"
${expect}`;
};

const packageScript = (op: Extract<ScriptOperation, { op: 'package' }>): string => {
  const name = shQuote(op.name);
  const wanted = (sep: string) => shQuote(op.version ? `${op.name}${sep}${op.version}` : op.name);
  const change: Record<Exclude<typeof op.action, 'version'>, string> = {
    install: `case "$pm" in
  apt) DEBIAN_FRONTEND=noninteractive apt-get install -y -q${op.version ? ' --allow-downgrades' : ''} ${wanted('=')};;
  *) "$pm" install -y ${wanted('-')};;
esac`,
    update: `case "$pm" in
  apt) apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --only-upgrade ${name};;
  dnf) dnf upgrade -y ${name};;
  yum) yum update -y ${name};;
esac`,
    remove: `case "$pm" in
  apt) DEBIAN_FRONTEND=noninteractive apt-get remove -y -q ${name};;
  *) "$pm" remove -y ${name};;
esac`,
  };
  if (op.action === 'version') {
    return `${PACKAGE_MANAGER}
v=$(pkg_version ${name})
if [ -n "$v" ]; then fact installed true; fact version "$v"; echo ${name}" $v"; else fact installed false; fact version ''; echo ${name}' is not installed'; fi`;
  }
  return `${PACKAGE_MANAGER}
before=$(pkg_version ${name})
fact previous_version "$before"
${change[op.action]}
rc=$?
after=$(pkg_version ${name})
fact version "$after"
echo ${name}": \${before:-not installed} -> \${after:-not installed}"
exit "$rc"`;
};

const diskUsageScript = (
  op: Extract<ScriptOperation, { op: 'disk-usage' }>,
): string => `df -P -k ${shQuote(op.path)} || exit $?
line=$(df -P -k ${shQuote(op.path)} | tail -n 1)
set -- $line
fact filesystem "$1"; fact size_kb "$2"; fact used_kb "$3"; fact available_kb "$4"; fact used_percent "\${5%\\%}"; fact mount "$6"`;

const configBackupScript = (op: Extract<ScriptOperation, { op: 'config-backup' }>, ctx: ScriptContext): string => {
  const archive = op.archive ?? `${DEFAULT_BACKUP_DIR}/${ctx.jobId}-${ctx.stepId}.tar.gz`;
  // Relative to / with a ./ prefix, so no member can be read as a tar option.
  const members = op.paths.map((p) => `.${p}`);
  return `set -e
archive=${shQuote(archive)}
mkdir -p -- "$(dirname -- "$archive")"
tar -czf "$archive.part" -C / ${shJoin(members)}
mv -f -- "$archive.part" "$archive"
fact archive "$archive"
fact sha256 "$(sha256sum -- "$archive" | cut -d' ' -f1)"
fact bytes "$(wc -c < "$archive" | tr -d ' ')"
echo "backed up ${op.paths.length} path(s) to $archive"`;
};

const configRestoreScript = (op: Extract<ScriptOperation, { op: 'config-restore' }>): string => `set -e
archive=${shQuote(op.archive)}
[ -f "$archive" ] || { echo "no backup archive at $archive" >&2; exit 2; }
tar -xzpf "$archive" -C /
fact archive "$archive"
echo "restored from $archive"`;

const fileRestoreScript = (op: Extract<ScriptOperation, { op: 'file-restore' }>): string => {
  const dst = shQuote(op.destination);
  if (op.backup === null) {
    return `rm -f -- ${dst} && fact restored removed && echo ${shQuote(`removed ${op.destination} (there was no file before)`)}`;
  }
  return `set -e
[ -e ${shQuote(op.backup)} ] || { echo ${shQuote(`backup ${op.backup} is missing`)} >&2; exit 2; }
cp -p -- ${shQuote(op.backup)} ${dst}
fact restored ${shQuote(op.backup)}
echo ${shQuote(`restored ${op.destination} from ${op.backup}`)}`;
};

/** The script for an operation. Facts are printed with the run's nonce and parsed back by `parseFacts`. */
export const scriptFor = (op: ScriptOperation, ctx: ScriptContext): RemoteScript => {
  const withFacts = (body: string): RemoteScript => ({
    shell: 'sh',
    script: `${factFn(ctx.nonce)}\n${body}\n`,
    reportsFacts: true,
  });
  switch (op.op) {
    case 'run':
      return { shell: 'sh', script: `exec ${shJoin(op.argv)}`, reportsFacts: false };
    case 'script':
      return { shell: op.shell, script: op.script, reportsFacts: false };
    case 'service':
      return withFacts(serviceScript(op));
    case 'service-wait':
      return withFacts(serviceWaitScript(op));
    case 'process-check':
      return withFacts(processCheckScript(op));
    case 'package':
      return withFacts(packageScript(op));
    case 'disk-usage':
      return withFacts(diskUsageScript(op));
    case 'config-backup':
      return withFacts(configBackupScript(op, ctx));
    case 'config-restore':
      return withFacts(configRestoreScript(op));
    case 'file-restore':
      return withFacts(fileRestoreScript(op));
  }
};

export { parseFacts } from '../facts.js';
