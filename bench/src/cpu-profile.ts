import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';

/**
 * Preloaded into a service with `--import` (Node refuses `--cpu-prof` in NODE_OPTIONS): samples
 * the main thread's CPU from start to exit and writes `<OPSC_CPU_PROFILE_NAME>-<pid>.cpuprofile` (Chrome
 * DevTools' format) into OPSC_CPU_PROFILE_DIR. The bench sets this up for the orchestrator and the
 * executor when OPSC_BENCH_PROFILE_DIR is set.
 */
const dir = process.env.OPSC_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable', () => session.post('Profiler.start'));
  let written = false;
  process.on('exit', () => {
    if (written) return;
    written = true;
    // An in-process session answers synchronously, so this runs before the process is gone.
    session.post('Profiler.stop', (err, result) => {
      if (!err)
        writeFileSync(
          path.join(dir, `${process.env.OPSC_CPU_PROFILE_NAME ?? 'node'}-${process.pid}.cpuprofile`),
          JSON.stringify(result.profile),
        );
    });
  });
}
