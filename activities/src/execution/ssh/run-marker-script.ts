import type { LinuxOperation } from '@opsc/contracts';
import { ALREADY_DONE, MARKER_RETENTION_DAYS, type RunMarkerKey } from '../run-marker.js';
import type { RemoteScript } from './linux-scripts.js';
import { shQuote } from './shell-quote.js';

/** Markers of steps run with `become`: root's, beside other system state. */
export const ROOT_RUNS_DIR = '/var/lib/opsconductor/runs';
/** Markers of steps run as the login user (a shell expression, expanded on the target). */
export const USER_RUNS_DIR = '${XDG_STATE_HOME:-$HOME/.local/state}/opsconductor/runs';

/** Exit code when no marker folder can be written: the change is not made unprotected. */
export const NO_MARKER_FOLDER_EXIT = 70;

/** Operations that change the target, and so must not run twice; reads and waits need no marker. */
export const changesLinuxTarget = (op: LinuxOperation): boolean => {
  switch (op.op) {
    case 'run':
    case 'script':
    case 'file-copy':
    case 'file-restore':
    case 'config-backup':
    case 'config-restore':
      return true;
    case 'service':
      return op.action !== 'status';
    case 'package':
      return op.action !== 'version';
    case 'service-wait':
    case 'process-check':
    case 'disk-usage':
    case 'file-fetch':
    case 'host-key-enrol':
      return false;
  }
};

/**
 * Wraps an operation's script so that it runs at most once per job, step and target. The marker is
 * `<runs>/<job>/<step>/<target>`, `<runs>` being ROOT_RUNS_DIR with `become` (USER_RUNS_DIR when
 * that cannot be written, e.g. sudo to a non-root user) and USER_RUNS_DIR without; `become` is part
 * of the step, so every attempt looks in the same place. The marker holds `exit=`, `at=`, `attempt=`
 * and one `fact k=v` line per fact (the body's `fact` appends to $OPSC_FACTS). It is written by
 * rename once the body has ended, however it ended, unless the whole group was killed (the remote
 * `timeout`, a cancellation): then the operation did not finish and a retry runs it.
 */
export const withRunMarker = (remote: RemoteScript, key: RunMarkerKey, opts: { nonce: string; become: boolean }): RemoteScript => {
  const candidates = opts.become ? `${ROOT_RUNS_DIR} "${USER_RUNS_DIR}"` : `"${USER_RUNS_DIR}"`;
  const facts = remote.reportsFacts;
  const script = `job=${shQuote(key.jobId)}; step=${shQuote(key.stepId)}; target=${shQuote(key.targetId)}
base=''
for b in ${candidates}; do
  if (umask 077 && mkdir -p -- "$b/$job/$step") 2>/dev/null && [ -w "$b/$job/$step" ]; then base=$b; break; fi
done
if [ -z "$base" ]; then
  echo "opsconductor: cannot write a run marker under ${opts.become ? `${ROOT_RUNS_DIR} or ` : ''}${USER_RUNS_DIR}; a change that a retry could repeat is not made" >&2
  exit ${NO_MARKER_FOLDER_EXIT}
fi
dir="$base/$job/$step"; marker="$dir/$target"
# One attempt at a time: a retry waits here while an earlier attempt still runs on this host.
if command -v flock >/dev/null 2>&1; then exec 9>>"$dir/.$target.lock"; flock 9; fi
if [ -f "$marker" ]; then
  rc=$(sed -n 's/^exit=//p' "$marker"); at=$(sed -n 's/^at=//p' "$marker"); by=$(sed -n 's/^attempt=//p' "$marker")
${facts ? `  sed -n ${shQuote(`s/^fact /@@opsc-${opts.nonce} /p`)} "$marker"\n` : ''}  echo "${ALREADY_DONE} \${by:-?} at \${at:-?}; not run again (run marker $marker)"
  case "$rc" in ''|*[!0-9]*) rc=1;; esac
  exit "$rc"
fi
${facts ? `facts="$dir/.$target.facts.$$"; : > "$facts"; OPSC_FACTS=$facts; export OPSC_FACTS\n` : ''}${remote.shell} -c ${shQuote(remote.script)} 9>&-
rc=$?
tmp="$dir/.$target.marker.$$"
if { printf 'exit=%s\\nat=%s\\nattempt=%s\\n' "$rc" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" ${key.attempt};${facts ? ` sed 's/^/fact /' "$facts";` : ''} } > "$tmp" && mv -f -- "$tmp" "$marker"; then :
else echo "opsconductor: could not write the run marker $marker; a retry would run this again" >&2; rm -f -- "$tmp"; fi
${facts ? 'rm -f -- "$facts"\n' : ''}# Old jobs' markers go once a day (.sweep is dated a day ahead at each sweep, so the common case
# is one builtin test); a folder goes once it has been empty as long.
if [ ! -e "$base/.sweep" ] || [ "$marker" -nt "$base/.sweep" ]; then
  touch -d tomorrow -- "$base/.sweep" 2>/dev/null || : > "$base/.sweep"
  find "$base" -mindepth 3 -type f -mtime +${MARKER_RETENTION_DAYS} -exec rm -f -- {} + 2>/dev/null
  find "$base" -mindepth 1 -type d -empty -mtime +${MARKER_RETENTION_DAYS} -delete 2>/dev/null
fi
exit "$rc"
`;
  return { shell: 'sh', script, reportsFacts: remote.reportsFacts };
};
