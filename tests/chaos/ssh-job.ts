import type { PlanInput } from '@opsc/contracts';
import type { SshFleet } from '@opsc/testkit';
import type { HostFacts } from './host-checks.js';

/**
 * The SSH workload: a script job that stops a service, replaces its program file (keeping a
 * backup), starts it and verifies it, each change step with its undo. Every change step goes on
 * for a while after its change and then prints, as real scripts do; the shims journal each stop
 * and start, and the copy script journals its replacement and the undo its restore.
 */
export const OLD = 'app 1.0\n';
export const NEW = 'app 2.0\n';
/** Seconds each change step runs after its change, printing at the end. */
const AFTER_SECONDS = 1;

export const changeLog = (svc: string) => `/var/lib/opsconductor/chaos/${svc}.log`;
export const programFile = (svc: string) => `/opt/${svc}/app.bin`;

/** The files a host starts with for service `svc`: the old program and the release beside it. */
export const hostFiles = (svc: string): Record<string, string> => ({
  [programFile(svc)]: OLD,
  [`/opt/${svc}/release/app.bin`]: NEW,
});

const script = (text: string) => ({
  method: 'ssh' as const,
  become: true,
  operation: { op: 'script' as const, shell: 'bash' as const, script: text },
});
const undo = (name: string, text: string) => ({ tool: 'run-script', name, action: script(text) });

export const sshPlan = (svc: string, group: string): PlanInput => {
  const dir = `/opt/${svc}`;
  const journal = (what: string) =>
    `mkdir -p /var/lib/opsconductor/chaos && echo "${what} $(date +%s.%N)" >> ${changeLog(svc)}`;
  const targets = { group };
  return {
    name: `chaos ${svc}`,
    policies: { maxParallel: 10, rollback: 'target', continueOnFailure: true, maxAttempts: 3 },
    steps: [
      {
        id: 'stop',
        name: `Stop ${svc}`,
        targets,
        timeoutSeconds: 60,
        action: script(`set -e\nsystemctl stop ${svc}\nsleep ${AFTER_SECONDS}\necho "${svc} stopped on $(hostname)"`),
        rollback: undo(`Start ${svc} again`, `systemctl start ${svc}`),
      },
      {
        id: 'copy',
        name: `Replace ${dir}/app.bin`,
        targets,
        timeoutSeconds: 60,
        action: script(
          `set -e\ncp -p ${dir}/app.bin ${dir}/app.bin.bak\ncp ${dir}/release/app.bin ${dir}/app.bin.tmp\nmv -f ${dir}/app.bin.tmp ${dir}/app.bin\n${journal('replace')}\nsleep ${AFTER_SECONDS}\necho "replaced ${dir}/app.bin, backup ${dir}/app.bin.bak"`,
        ),
        rollback: undo(
          `Restore ${dir}/app.bin`,
          `set -e\nif [ -f ${dir}/app.bin.bak ]; then mv -f ${dir}/app.bin.bak ${dir}/app.bin; ${journal('restore')}; fi`,
        ),
      },
      {
        id: 'start',
        name: `Start ${svc}`,
        targets,
        timeoutSeconds: 60,
        action: script(`set -e\nsystemctl start ${svc}\nsleep ${AFTER_SECONDS}\necho "${svc} started on $(hostname)"`),
        rollback: undo(`Stop ${svc} again`, `systemctl stop ${svc}`),
      },
      {
        id: 'verify',
        name: `Verify ${svc}`,
        targets,
        timeoutSeconds: 30,
        action: { method: 'ssh', operation: { op: 'run', argv: ['systemctl', 'is-active', svc] } },
      },
    ],
  };
};

/** How many hosts have journalled `what` for `svc` so far. */
export const hostsThatDid = async (
  fleet: SshFleet,
  svc: string,
  what: 'stop' | 'start' | 'replace',
): Promise<number[]> => {
  const done = await Promise.all(
    fleet.hosts.map(async (_, i) =>
      what === 'replace'
        ? ((await fleet.readHostFile(i, changeLog(svc))) ?? '').includes('replace ')
        : (await fleet.readJournal(i)).some((e) => e.unit === svc && e.action === what),
    ),
  );
  return done.flatMap((d, i) => (d ? [i] : []));
};

/** Each host's own record of `svc`: the shims' journal, the scripts' change log, the program file and the service. */
export const sshFacts = async (
  fleet: SshFleet,
  svc: string,
  down: ReadonlySet<number> = new Set(),
): Promise<HostFacts[]> =>
  Promise.all(
    fleet.hosts.map(async (host, i) => {
      const journal = (await fleet.readJournal(i)).filter((e) => e.unit === svc);
      const log = ((await fleet.readHostFile(i, changeLog(svc))) ?? '').split('\n');
      const content = await fleet.readHostFile(i, programFile(svc));
      return {
        name: host.name,
        stops: journal.filter((e) => e.action === 'stop').length,
        starts: journal.filter((e) => e.action === 'start').length,
        replacements: log.filter((l) => l.startsWith('replace ')).length,
        restores: log.filter((l) => l.startsWith('restore ')).length,
        version: content === OLD ? 'old' : content === NEW ? 'new' : content === null ? 'missing' : 'other',
        running: down.has(i) ? null : (await fleet.exec(i, `systemctl is-active ${svc}`)).code === 0,
      } satisfies HostFacts;
    }),
  );
