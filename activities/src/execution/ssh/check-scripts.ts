import { WOULD_CHANGE_FACT, type LinuxOperation } from '@opsc/contracts';
import { PACKAGE_MANAGER, SERVICE_MANAGER } from './linux-scripts.js';
import { shJoin, shQuote } from './shell-quote.js';

/*
 * Check mode on Linux: scripts that only read (a state, a version, a hash) and report, as facts,
 * whether the change of the same name would change the target (`would_change` yes or no) and what
 * that was judged on. None of them writes, starts, stops, installs or copies anything.
 */

type CheckOp<K extends string> = Extract<LinuxOperation, { op: K }>;
export type LinuxCheckOperation = CheckOp<
  | 'service-check'
  | 'package-check'
  | 'file-check'
  | 'file-restore-check'
  | 'config-backup-check'
  | 'config-restore-check'
>;

const verdict = `would() { fact ${WOULD_CHANGE_FACT} "$1"; }`;

const serviceCheck = (op: CheckOp<'service-check'>): string => {
  const name = shQuote(op.name);
  const judge: Record<typeof op.action, string> = {
    start: `fact wanted active; [ "$state" = active ] && would no || would yes`,
    stop: `fact wanted inactive; [ "$state" = active ] && would yes || would no`,
    // A restart restarts a running service and starts a stopped one: a change either way.
    restart: `fact wanted 'active (restarted)'; would yes`,
    reload: `fact wanted 'active (reloaded)'
if [ "$state" = active ]; then would yes; else would unknown; echo "not running: a reload would fail" >&2; fi`,
    enable: `fact wanted enabled; [ "$enabled" = enabled ] && would no || would yes`,
    disable: `fact wanted disabled; [ "$enabled" = enabled ] && would yes || would no`,
  };
  return `${SERVICE_MANAGER}
state=$(svc_state ${name})
enabled=unknown
[ "$mgr" = systemctl ] && enabled=$(systemctl is-enabled ${name} 2>/dev/null || :)
fact state "$state"
fact enabled "\${enabled:-unknown}"
${judge[op.action]}
echo ${name}" is $state (\${enabled:-unknown}); ${op.action}"`;
};

const packageCheck = (op: CheckOp<'package-check'>): string => {
  const name = shQuote(op.name);
  const wanted = op.version ? shQuote(op.version) : '"$candidate"';
  const judge: Record<typeof op.action, string> = {
    install: `want=${wanted}
if [ -z "$installed" ] || { [ -n "$want" ] && [ "$installed" != "$want" ]; }; then would yes; else would no; fi
fact wanted "$want"`,
    update: `if [ -z "$installed" ]; then would no; echo ${name}' is not installed: an update installs nothing'
elif [ -n "$candidate" ] && [ "$installed" != "$candidate" ]; then would yes; else would no; fi
fact wanted "\${candidate:-$installed}"`,
    remove: `[ -n "$installed" ] && would yes || would no
fact wanted 'not installed'`,
  };
  // The candidate comes from the package lists as they are: a check does not refresh them (a write).
  return `${PACKAGE_MANAGER}
installed=$(pkg_version ${name})
case "$pm" in
  apt) candidate=$(apt-cache policy ${name} 2>/dev/null | sed -n 's/^ *Candidate: *//p' | head -n 1); [ "$candidate" = '(none)' ] && candidate='';;
  *) candidate=$("$pm" list available ${name} 2>/dev/null | awk -v n=${name} 'index($1, n ".") == 1 { v = $2 } END { print v }')
     [ -z "$candidate" ] && candidate="$installed";;
esac
fact installed "$installed"
fact available "$candidate"
${judge[op.action]}
echo ${name}": installed \${installed:-none}, available \${candidate:-none}"`;
};

/** `artifactSha256`: the executor hashes its artifact; the target's file is hashed where it is. */
const fileCheck = (op: CheckOp<'file-check'>, artifactSha256: string): string => `dst=${shQuote(op.destination)}
fact artifact_sha256 ${shQuote(artifactSha256)}
[ -d "$(dirname -- "$dst")" ] || { echo "destination folder $(dirname -- "$dst") does not exist: the copy would fail" >&2; exit 2; }
if [ -e "$dst" ]; then
  [ -f "$dst" ] || { echo "$dst is not a regular file: the copy would fail" >&2; exit 2; }
  now=$(sha256sum -- "$dst" | cut -d' ' -f1) || exit 2
  fact target_sha256 "$now"
  fact backup ${op.backup ? "'would be created'" : "'none'"}
  if [ "$now" = ${shQuote(artifactSha256)} ]; then would no; echo "$dst has the artifact's content"
  else would yes; echo "$dst differs from the artifact ($now)"; fi
else
  fact target_sha256 ''
  fact backup 'none (no file to replace)'
  would yes; echo "$dst does not exist"
fi`;

const fileRestoreCheck = (op: CheckOp<'file-restore-check'>): string => {
  const dst = shQuote(op.destination);
  if (op.backup === null)
    return `if [ -e ${dst} ]; then would yes; echo ${dst}' would be removed (there was no file before)'
else would no; echo ${dst}' does not exist'; fi`;
  const backup = shQuote(op.backup);
  return `[ -f ${backup} ] || { echo ${shQuote(`backup ${op.backup} is missing: the restore would fail`)} >&2; exit 2; }
b=$(sha256sum -- ${backup} | cut -d' ' -f1); fact backup_sha256 "$b"
now=$( [ -f ${dst} ] && sha256sum -- ${dst} | cut -d' ' -f1 ); fact target_sha256 "$now"
[ "$now" = "$b" ] && would no || would yes`;
};

const configBackupCheck = (op: CheckOp<'config-backup-check'>): string => `present=0; missing=''
for p in ${shJoin(op.paths)}; do if [ -e "$p" ]; then present=$((present + 1)); else missing="$missing $p"; fi; done
fact present "$present"
fact missing "\${missing# }"
[ -z "$missing" ] || { echo "missing:$missing: the backup would fail" >&2; exit 2; }
would yes
echo "would archive $present path(s) into a new archive"`;

/** `tar --diff` compares the archive's members with the files, reading only. */
const configRestoreCheck = (op: CheckOp<'config-restore-check'>): string => `archive=${shQuote(op.archive)}
[ -f "$archive" ] || { echo "no backup archive at $archive: the restore would fail" >&2; exit 2; }
diff=$(tar -dzf "$archive" -C / 2>&1); rc=$?
differ=$(printf '%s\\n' "$diff" | grep -c . || :)
fact differences "$differ"
if [ "$rc" -eq 0 ]; then would no; echo "the files match $archive"
elif [ "$rc" -eq 1 ]; then would yes; printf '%s\\n' "$diff" | head -n 20
else echo "cannot compare with $archive" >&2; printf '%s\\n' "$diff" | head -n 5 >&2; exit 2; fi`;

/** The body of a check script (the `fact` function comes first, from `scriptFor`'s caller). */
export const checkScriptBody = (op: LinuxCheckOperation, artifactSha256?: string): string => {
  switch (op.op) {
    case 'service-check':
      return `${verdict}\n${serviceCheck(op)}`;
    case 'package-check':
      return `${verdict}\n${packageCheck(op)}`;
    case 'file-check':
      if (artifactSha256 === undefined) throw new TypeError('a file check needs the artifact hash');
      return `${verdict}\n${fileCheck(op, artifactSha256)}`;
    case 'file-restore-check':
      return `${verdict}\n${fileRestoreCheck(op)}`;
    case 'config-backup-check':
      return `${verdict}\n${configBackupCheck(op)}`;
    case 'config-restore-check':
      return `${verdict}\n${configRestoreCheck(op)}`;
  }
};
