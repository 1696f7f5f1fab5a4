import type { WinrmFleet } from '@opsc/testkit';
import type { HostFacts } from './host-checks.js';

/**
 * The WinRM workload: the Windows change job (stop the service, copy the new exe with a
 * backup, start it, verify it running; 5 hosts at a time, rollback per target), checked against
 * each simulated host's change journal, files and service.
 */
export const OLD_EXE = Buffer.from('chaosapp 1.0 (build 7)\n');
export const exePath = (svc: string) => `C:\\Program Files\\Chaos\\${svc}\\${svc}.exe`;
export const ARTIFACT = 'chaos/app-2.0.exe';

export const winrmDraft = (svc: string, group: string) => {
  const targets = { group };
  return {
    name: `chaos ${svc}`,
    steps: [
      { id: 'stop', tool: 'service-stop', params: { service: svc }, targets },
      { id: 'copy', tool: 'file-copy', params: { source: ARTIFACT, destination: exePath(svc) }, targets },
      { id: 'start', tool: 'service-start', params: { service: svc }, targets },
      { id: 'verify', tool: 'service-wait', params: { service: svc, state: 'running', timeoutSeconds: 30 }, targets },
    ],
    // One attempt may take a minute; a retry then finds the first one's run marker.
    policies: { maxParallel: 5, rollback: 'target', continueOnFailure: true, timeoutSeconds: 60, retries: 3 },
  };
};

const same = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();

/**
 * Hosts whose copy of `svc`'s exe is under way: since the service stopped, a `.part` file is being
 * written (the upload, beside the exe or in a staging folder).
 */
export const hostsCopying = (fleet: WinrmFleet, svc: string): number[] =>
  fleet.hosts.flatMap((_, i) => {
    const journal = fleet.host(i).journal();
    const stopped = journal.findIndex((e) => e.op === 'service-stop' && same(e.name, svc));
    return stopped !== -1 &&
      journal.slice(stopped).some((e) => e.op === 'write' && e.path.toLowerCase().endsWith('.part'))
      ? [i]
      : [];
  });

export const hostsStopped = (fleet: WinrmFleet, svc: string): number[] =>
  fleet.hosts.flatMap((_, i) =>
    fleet
      .host(i)
      .journal()
      .some((e) => e.op === 'service-stop' && same(e.name, svc))
      ? [i]
      : [],
  );

/** Each host's own record of `svc`: its change journal, the exe and the service. */
export const winrmFacts = async (fleet: WinrmFleet, svc: string, newExe: Buffer): Promise<HostFacts[]> =>
  Promise.all(
    fleet.hosts.map(async (host, i) => {
      const sim = fleet.host(i);
      const exe = exePath(svc);
      const journal = sim.journal();
      const content = await sim.readFile(exe);
      return {
        name: host.name,
        stops: journal.filter((e) => e.op === 'service-stop' && same(e.name, svc)).length,
        starts: journal.filter((e) => e.op === 'service-start' && same(e.name, svc)).length,
        // The new file is moved into place; a restore copies the backup over it.
        replacements: journal.filter((e) => e.op === 'move' && same(e.path, exe)).length,
        restores: journal.filter((e) => e.op === 'copy' && same(e.path, exe)).length,
        version:
          content === null ? 'missing' : content.equals(OLD_EXE) ? 'old' : content.equals(newExe) ? 'new' : 'other',
        running: sim.service(svc)?.status === 'Running',
      } satisfies HostFacts;
    }),
  );
