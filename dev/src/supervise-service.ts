import { RestartPolicy } from './restart-policy.js';
import type { ServiceProcess } from './service-process.js';

export interface SuperviseOptions {
  name: string;
  /** Starts one process of the service (called again for each restart). */
  start: () => ServiceProcess;
  policy?: RestartPolicy;
  /** One line per start, crash, restart and give-up. */
  say: (line: string) => void;
  /** The service could not even be spawned again (its build is gone): the caller stops the stack. */
  onGiveUp: (reason: string) => void;
}

export interface Supervisor {
  name: string;
  /** The process running now (the latest one, if it is between a crash and its restart). */
  current(): ServiceProcess;
  /** Stops supervising and stops the process (SIGTERM, then SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Keeps a service running: when its process exits without being asked, it is started again after
 * the policy's backoff; one that keeps crashing at start is said to be in a crash loop, once, and
 * restarted at the cap. Only a restart that cannot even spawn gives it up.
 */
export const superviseService = (options: SuperviseOptions): Supervisor => {
  const policy = options.policy ?? new RestartPolicy();
  let stopping = false;
  /** The crash loop has been said (again once it has stayed up and crashes anew into one). */
  let inCrashLoop = false;
  let wake: (() => void) | undefined;
  let proc = options.start();
  policy.started();
  options.say(`${options.name} started (pid ${proc.pid})`);

  const loop = async () => {
    for (;;) {
      const { code, signal } = await proc.exited;
      if (stopping) return;
      const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
      const decision = policy.crashed();
      if (decision.crashLoop && !inCrashLoop) {
        inCrashLoop = true;
        options.say(
          `${options.name} is in a crash loop: it crashed ${decision.quickCrashes} times in a row soon after starting; restarting every ${seconds(decision.delayMs)} until it stays up (its log lines above say why; Ctrl-C stops the stack)`,
        );
      } else if (!decision.crashLoop) inCrashLoop = false;
      options.say(
        `${options.name} ${how} after ${seconds(decision.ranMs)}; restarting in ${seconds(decision.delayMs)}${decision.quickCrashes > 1 ? ` (${decision.quickCrashes} quick crashes in a row)` : ''}`,
      );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, decision.delayMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
      if (stopping) return;
      proc = options.start();
      policy.started();
      options.say(`${options.name} restarted (pid ${proc.pid})`);
    }
  };
  const looping = loop().catch((err: unknown) => {
    // A restart that cannot even spawn (a missing build) is a give-up, not a silent stop.
    options.onGiveUp(`${options.name} could not be restarted: ${(err as Error).message}`);
  });

  return {
    name: options.name,
    current: () => proc,
    stop: async (graceMs) => {
      stopping = true;
      wake?.();
      await proc.stop(graceMs);
      await looping;
    },
  };
};
