import { readFile, rm } from 'node:fs/promises';
import { writeBootId } from './host-files.js';
import type { HostPlan } from './host-plan.js';
import { sleep } from './run.js';

/*
 * Emulated reboots and power-offs of SSH fleet hosts. A host's power shims (shims/power, and the
 * systemctl shim's reboot/poweroff) only write state/power; this watcher, in the harness, takes the
 * host's namespace down by PID (its sshd, sessions and services die with it) and, for a reboot,
 * boots it again after a short pause with a new boot id, so its enabled services start afresh.
 * Nothing here touches the machine's own power.
 */

/** How often the hosts' requests are looked for. */
const POLL_MS = 100;
/** How long after its request a host goes down: the command that asked returns first, as on a real host. */
const LAG_MS = 500;
/** How long a rebooting host stays down before it boots again. */
export const REBOOT_DOWN_MS = 1_500;

export interface PowerHost {
  stopHost(index: number): Promise<void>;
  startHost(index: number): Promise<void>;
}

export interface PowerWatch {
  /** A reboot of the host takes it down and leaves it down: a host that never comes back. */
  holdDown(index: number, hold: boolean): void;
  /** Resolves once no request is being carried out. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export const watchPower = (plans: readonly HostPlan[], hosts: PowerHost, log: (line: string) => void): PowerWatch => {
  const held = new Set<number>();
  const inFlight = new Map<number, Promise<void>>();
  let stopped = false;
  const carryOut = async (plan: HostPlan, request: string): Promise<void> => {
    await sleep(LAG_MS);
    await hosts.stopHost(plan.index);
    if (request !== 'reboot') return;
    await sleep(REBOOT_DOWN_MS);
    await writeBootId(plan.dir);
    if (!held.has(plan.index) && !stopped) await hosts.startHost(plan.index);
  };
  const look = async (): Promise<void> => {
    for (const plan of plans) {
      if (inFlight.has(plan.index)) continue;
      const file = `${plan.dir}/state/power`;
      const request = await readFile(file, 'utf8').then(
        (t) => t.trim(),
        () => null,
      );
      if (request === null) continue;
      await rm(file, { force: true });
      const job = carryOut(plan, request)
        .catch((err: unknown) => log(`${plan.name}: ${request} failed: ${(err as Error).message}`))
        .finally(() => inFlight.delete(plan.index));
      inFlight.set(plan.index, job);
    }
  };
  let looking: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    looking = looking.then(look).catch((err: unknown) => log(`power watch: ${(err as Error).message}`));
  }, POLL_MS);
  timer.unref();
  return {
    holdDown: (index, hold) => void (hold ? held.add(index) : held.delete(index)),
    idle: async () => {
      await looking;
      await Promise.all(inFlight.values());
    },
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await looking;
      await Promise.all(inFlight.values());
    },
  };
};
