import { remoteCommandWritesNothing, type LinuxOperation } from '@opsc/contracts';
import { ALREADY_DONE, MARKER_RETENTION_DAYS, RERUN_SEPARATOR, type RunMarkerKey } from '../run-marker.js';
import type { RemoteScript } from './linux-scripts.js';
import { shQuote } from './shell-quote.js';
import { KILL_GRACE_SECONDS } from './remote-command.js';

/** Markers of steps run with `become`: root's, beside other system state. */
export const ROOT_RUNS_DIR = '/var/lib/opsconductor/runs';
/** Markers of steps run as the login user (a shell expression, expanded on the target). */
export const USER_RUNS_DIR = '${XDG_STATE_HOME:-$HOME/.local/state}/opsconductor/runs';

/** Exit code when no marker folder can be written: the change is not made unprotected. */
export const NO_MARKER_FOLDER_EXIT = 70;
/**
 * Exit code when the runner did not report its start in time: the attempt gave up on it (a runner
 * starting later sees `abandoned` and does not run), but it may have started just before; a retry
 * finds out. Not the command's own result.
 */
export const START_UNKNOWN_EXIT = 71;
/** Exit code of an undo that did not start because its step's forward change still runs on the target. */
export const FORWARD_STILL_RUNS_EXIT = 72;
/** The suffix of an undo's step id (see RunMarkerKey). */
const UNDO_SUFFIX = '.rollback';

const candidateDirs = (become: boolean): string =>
  become ? `${ROOT_RUNS_DIR} "${USER_RUNS_DIR}"` : `"${USER_RUNS_DIR}"`;

/**
 * Operations that change the target, and so must not run twice; reads and waits need no marker. A
 * `run` is a read in an argv-exact read-only shape (contracts' remote-commands.ts, the list that
 * also spares it an approval: `uptime`, `df -h`, not `date -s ...`), or of a program that never
 * writes (`sha256sum FILE`: no marker, but still approved); a script is always a change.
 * Decided from the typed operation, never from a step's name or what a plan says of it.
 */
export const changesLinuxTarget = (op: LinuxOperation): boolean => {
  switch (op.op) {
    case 'run':
      return !remoteCommandWritesNothing(op.argv);
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
    case 'service-check':
    case 'package-check':
    case 'file-check':
    case 'file-restore-check':
    case 'config-backup-check':
    case 'config-restore-check':
      return false;
    // The host goes down under them: no marker could report their end; their scheduling is detached instead.
    case 'reboot':
    case 'shutdown':
      return false;
  }
};

/**
 * Wraps a changing operation so that it runs at most once per job, step and target, detached from
 * the connection. The marker is `<runs>/<job>/<step>/<target>`, `<runs>` being ROOT_RUNS_DIR with
 * `become` (USER_RUNS_DIR when that cannot be written, e.g. sudo to a non-root user) and
 * USER_RUNS_DIR without; `become` is part of the step, so every attempt looks in the same place.
 * The marker holds `exit=`, `at=`, `attempt=` and one `fact k=v` line per fact (the body's `fact`
 * appends to $OPSC_FACTS); it is written by rename once the body has ended, however it ended,
 * unless the whole group was killed (the remote `timeout`, a cancellation): then the operation did
 * not finish and a retry runs it.
 *
 * The body does not run on the channel: the script starts it in its own session (setsid), under
 * `timeout -k`, stdin /dev/null, output to `out` and `err` in a run folder beside the marker
 * (`.<target>.run`), then prints the pid line naming the body's process group (for a cancellation)
 * and follows those files until the run has ended. A dead channel neither kills the body (nothing
 * it prints goes there) nor changes its result. A later attempt finds the marker (and replays what
 * the run printed, if nobody followed it to the end), or attaches to the run still going (its lock
 * is held by the runner for its whole life), or, when the runner is gone without a marker, says so
 * on stderr and runs the change again. Facts come from the marker only, printed with the nonce of
 * the attempt that reports them. Once a result is reported, or the run was stopped, only the
 * marker stays: the run folder (the raw output) goes.
 *
 * A runner runs only for the run folder it was started for (the starting attempt's nonce is its
 * token) and only if that attempt did not give up on it (`abandoned`): a runner late past the
 * start wait never runs a change a retry has run or runs. An undo (`<step>.rollback`) first waits
 * for its forward step's attempt and runner on the same target to end, within its timeout.
 */
export const withRunMarker = (
  remote: RemoteScript,
  key: RunMarkerKey,
  opts: { nonce: string; become: boolean; timeoutSeconds: number; startWaitSeconds?: number },
): RemoteScript => {
  // They go into the command line as they are: numbers and nothing else.
  if (!Number.isSafeInteger(opts.timeoutSeconds) || opts.timeoutSeconds < 1)
    throw new RangeError(`not a timeout in seconds: ${String(opts.timeoutSeconds).slice(0, 40)}`);
  const startWait = opts.startWaitSeconds ?? 30;
  if (!Number.isSafeInteger(startWait) || startWait < 1)
    throw new RangeError(`not a start wait in seconds: ${String(startWait).slice(0, 40)}`);
  if (!/^[0-9a-f]+$/.test(opts.nonce)) throw new RangeError('not a nonce');
  const candidates = candidateDirs(opts.become);
  const facts = remote.reportsFacts;
  // Run by `timeout` in the runner's session ($1 run folder, $2 body, $3 runs base, $4 marker); it
  // and `timeout` hold the run lock (fd 8) while they live, the body does not (it may leave daemons).
  const change = `run=$1; base=$3; marker=$4
${facts ? 'OPSC_FACTS="$run/facts"; : > "$OPSC_FACTS"; export OPSC_FACTS\n' : ''}${remote.shell} -c "$2" 8>&-
rc=$?
tmp="$run/marker.part"
if { printf 'exit=%s\\nat=%s\\nattempt=%s\\n' "$rc" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" ${key.attempt};${facts ? ` sed 's/^/fact /' "$run/facts";` : ''} } > "$tmp" && mv -f -- "$tmp" "$marker"; then :
else echo "opsconductor: could not write the run marker $marker; a retry would run this again" >&2; rm -f -- "$tmp"; fi
# Old jobs' markers go once a day (.sweep is dated a day ahead at each sweep, so the common case
# is one builtin test); a folder goes once it has been empty as long.
if [ ! -e "$base/.sweep" ] || [ "$marker" -nt "$base/.sweep" ]; then
  touch -d tomorrow -- "$base/.sweep" 2>/dev/null || : > "$base/.sweep"
  find "$base" -mindepth 3 -type f -mtime +${MARKER_RETENTION_DAYS} -exec rm -f -- {} + 2>/dev/null
  find "$base" -mindepth 1 -type d -empty -mtime +${MARKER_RETENTION_DAYS} -delete 2>/dev/null
fi
exit "$rc"
`;
  // The session leader: holds the run lock until the change has ended, then records how it ended.
  // $5 is the token of the run folder it was started for, $6 its cleanup, $7 the seconds left.
  const runner = `run=$1
exec 8>>"$run/lock"; flock 8
# Late: the folder is a retry's now (or gone), or the attempt that started this gave up on it.
tok=''; { read -r tok < "$run/token"; } 2>/dev/null
if [ "$tok" != "$5" ] || [ -e "$run/abandoned" ]; then exit 0; fi
echo "$$" > "$run/pid"
timeout -k ${KILL_GRACE_SECONDS} "$7" sh -c ${shQuote(change)} opsc-change "$@" </dev/null >>"$run/out" 2>>"$run/err" &
echo "$!" > "$run/pgid.part"; mv -f -- "$run/pgid.part" "$run/pgid"
wait "$!"; rc=$?
[ -z "$6" ] || sh -c "$6" </dev/null >/dev/null 2>&1
echo "$rc" > "$run/ended"
`;
  const undoOf = key.stepId.endsWith(UNDO_SUFFIX) ? key.stepId.slice(0, -UNDO_SUFFIX.length) : null;
  // An undo must not run beside the change it undoes: it waits for the forward step's attempt lock
  // (held while an attempt starts its runner) and run lock (held by the runner) on this target,
  // and those of the step's re-runs (decide `retry`).
  const waitForward =
    undoOf === null
      ? ''
      : `fstep=${shQuote(undoOf)}
for b in ${candidates}; do
  for l in "$b/$job/$fstep/.$target.lock" "$b/$job/$fstep/.$target.run/lock" "$b/$job/$fstep"${RERUN_SEPARATOR}*/".$target.lock" "$b/$job/$fstep"${RERUN_SEPARATOR}*/".$target.run/lock"; do
    [ -e "$l" ] || continue
    left=$((end - $(date +%s))); [ "$left" -gt 0 ] || left=0
    flock -E 75 -s -w "$left" "$l" true 2>/dev/null
    if [ "$?" = 75 ]; then
      echo "opsconductor: the change this undoes (step $fstep) still runs on this host after ${opts.timeoutSeconds}s; the undo did not start" >&2
      exit ${FORWARD_STILL_RUNS_EXIT}
    fi
  done
done
`;
  const script = `job=${shQuote(key.jobId)}; step=${shQuote(key.stepId)}; target=${shQuote(key.targetId)}
end=$(($(date +%s) + ${opts.timeoutSeconds}))
base=''
for b in ${candidates}; do
  if (umask 077 && mkdir -p -- "$b/$job/$step") 2>/dev/null && [ -w "$b/$job/$step" ]; then base=$b; break; fi
done
if [ -z "$base" ]; then
  echo "opsconductor: cannot write a run marker under ${opts.become ? `${ROOT_RUNS_DIR} or ` : ''}${USER_RUNS_DIR}; a change that a retry could repeat is not made" >&2
  exit ${NO_MARKER_FOLDER_EXIT}
fi
for c in setsid flock; do
  command -v "$c" >/dev/null 2>&1 || { echo "opsconductor: $c is missing on this host; a change runs apart from the connection or not at all" >&2; exit ${NO_MARKER_FOLDER_EXIT}; }
done
${waitForward}dir="$base/$job/$step"; marker="$dir/$target"; run="$dir/.$target.run"
# Reports the marker (under the marker lock): its facts with this attempt's nonce, and whether
# another attempt did the work; the run folder is not needed any more.
report() {
  rc=''; at=''; by=''
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
      exit=*) rc=\${line#exit=} ;;
      at=*) at=\${line#at=} ;;
      attempt=*) by=\${line#attempt=} ;;${
        facts
          ? `
      'fact '*) printf '%s\\n' "@@opsc-${opts.nonce} \${line#fact }" ;;`
          : ''
      }
    esac
    line=''
  done < "$marker"
  [ "$1" = own ] && [ "$by" = ${key.attempt} ] || echo "${ALREADY_DONE} \${by:-?} at \${at:-?}; not run again (run marker $marker)"
  rm -rf -- "$run"
  case "$rc" in ''|*[!0-9]*) rc=1;; esac
  exit "$rc"
}
# One attempt at a time decides whether to report, attach or start; the change runs outside this lock.
exec 9>>"$dir/.$target.lock"; flock 9
if [ -f "$marker" ]; then
  # Output nobody followed to the end (the connection died): replayed once.
  if [ -f "$run/out" ]; then cat -- "$run/out"; cat -- "$run/err" >&2; fi
  report any
fi
attach=''
if [ -f "$run/lock" ]; then
  exec 8<"$run/lock"
  by=$(cat -- "$run/attempt" 2>/dev/null)
  if ! flock -n -s 8; then attach=1; echo "opsconductor: following the run of attempt \${by:-?}, still going on this host" >&2
  elif [ -f "$run/ended" ]; then echo "opsconductor: the run of attempt \${by:-?} was stopped before it finished (exit $(cat -- "$run/ended")); running it again" >&2
  else echo "opsconductor: the run of attempt \${by:-?} ended without recording a result (its runner was killed or the host restarted); running it again" >&2
  fi
  exec 8<&-
fi
if [ -z "$attach" ]; then
  rm -rf -- "$run"
  if ! { (umask 077 && mkdir -- "$run") && : > "$run/out" && : > "$run/err" && : > "$run/lock" && echo ${key.attempt} > "$run/attempt" && echo ${opts.nonce} > "$run/token"; }; then
    echo "opsconductor: cannot prepare the run folder $run; the change is not made" >&2; exit ${NO_MARKER_FOLDER_EXIT}
  fi
  left=$((end - $(date +%s))); [ "$left" -gt 0 ] || left=1
  body=${shQuote(remote.script)}; cleanup=${shQuote(remote.cleanup ?? '')}
  setsid sh -c ${shQuote(runner)} opsc-run "$run" "$body" "$base" "$marker" ${opts.nonce} "$cleanup" "$left" </dev/null >/dev/null 2>&1 9>&- &
fi
# The runner starts in milliseconds: 5 looks 20 ms apart, then every 100 ms for the rest of the wait
# (each look past the first is a \`sleep\` process: few fast ones, for a host too busy to start it at once).
n=0
until [ -s "$run/pgid" ]; do
  n=$((n + 1))
  if [ "$n" -gt ${startWait * 10 + 4} ] || [ -e "$run/abandoned" ]; then
    : > "$run/abandoned"
    echo "opsconductor: the change did not start within ${startWait}s and was given up (it does not start later); it may have started just before: a retry finds out" >&2
    exit ${START_UNKNOWN_EXIT}
  fi
  if [ "$n" -le 5 ]; then sleep 0.02; else sleep 0.1; fi
done
exec 6<"$run/out" 7<"$run/err" 8<"$run/lock"
read -r pgid < "$run/pgid"; read -r rpid < "$run/pid"
exec 9>&-
# From here on a dead channel must not end this script before the run does (a file-copy's staging
# folder is removed after it, in the same session).
trap '' PIPE HUP
echo "@@opsc-${opts.nonce}-pid $pgid"
# The runner holds the run lock exclusively while it lives; followers take it shared.
if tail -c +1 -s 0.2 --pid="$rpid" /dev/null >/dev/null 2>&1; then
  # They notice the runner's end within 50 ms (the output itself comes as it is written).
  tail -c +1 -s 0.05 -f --pid="$rpid" /dev/fd/6 7<&- &
  tail -c +1 -s 0.05 -f --pid="$rpid" /dev/fd/7 6<&- >&2 &
  wait
  flock -s 8
else
  # No GNU tail to follow with: the output comes once the run has ended.
  flock -s 8
  cat <&6; cat <&7 >&2
fi
exec 9>>"$dir/.$target.lock"; flock 9
if [ -f "$marker" ]; then report own; fi
if [ -f "$run/ended" ]; then
  rc=''; { read -r rc < "$run/ended"; } 2>/dev/null; case "$rc" in ''|*[!0-9]*) rc=1;; esac
else
  echo "opsconductor: the run ended without recording a result (its runner was killed or the host restarted); a retry runs it again" >&2
  rc=137
fi
# Stopped (no marker): nothing in the run folder is of use to anyone any more.
rm -rf -- "$run"
exit "$rc"
`;
  return { shell: 'sh', script, reportsFacts: remote.reportsFacts, detached: true };
};

/**
 * Stops a detached change whose pid line never reached the client (an abort or deadline during the
 * start wait): marks its run folder given up, so a runner not yet started never runs, and kills the
 * group a started runner recorded. Run as the step runs (same `become`).
 */
export const stopUnreportedRunScript = (
  key: RunMarkerKey,
  become: boolean,
): string => `job=${shQuote(key.jobId)}; step=${shQuote(key.stepId)}; target=${shQuote(key.targetId)}
for b in ${candidateDirs(become)}; do
  run="$b/$job/$step/.$target.run"
  [ -d "$run" ] || continue
  : > "$run/abandoned" 2>/dev/null
  [ -e "$run/ended" ] && continue
  pg=$(cat -- "$run/pgid" 2>/dev/null)
  case "$pg" in ''|*[!0-9]*|0|1) continue;; esac
  kill -TERM -"$pg" 2>/dev/null; sleep 2; kill -KILL -"$pg" 2>/dev/null
done
true
`;
