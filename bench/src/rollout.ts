import { describeRss } from './proc-rss.js';
import { machineLine } from './dispatch-stats.js';
import { shownCpu } from './proc-cpu.js';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startSshFleet, type SshFleet } from '@opsc/testkit';
import { ANSIBLE_PLAYBOOK, ansibleRollout, type AnsibleResult } from './rollout-ansible.js';
import { DESTINATION, OLD_CONTENT, writeArtifact, type BenchHost } from './rollout-change.js';
import { addInventory, opscRollout, uploadArtifact, type OpscResult } from './rollout-opsc.js';
import { checkAndReset, floorRollout, type FloorResult } from './rollout-ssh2.js';
import { startBenchStack, type BenchStack } from './rollout-stack.js';
import { formatEtaErrors } from './eta-errors.js';

/**
 * One rollout (check a file, copy the new build with a backup and a rollback, verify its SHA-256)
 * on N real sshd hosts, three ways: (a) OpsConductor end to end (API, Temporal workflow, executor
 * worker), (b) a plain ssh2 client, one connection per host, a barrier per step (the floor), and
 * (c) ansible-playbook with forks = N. Each run starts without connections; every host is checked
 * (new file in place, old one backed up) and put back after each run, untimed.
 *
 *   npm run bench:rollout -- [--sizes 25,100,200] [--repeat 1] [--artifact-kb 1024] [--variants abc] [--temporal dev|cluster]
 *
 * `--temporal cluster` runs (a) on the real Temporal server as separate services behind HAProxy on the
 * bench's PostgreSQL (docs/temporal-cluster.md) instead of the dev server.
 *
 * The executor gets EXECUTOR_MAX_CONCURRENT_ACTIVITIES = the largest N; any EXECUTOR_* or SSH_*
 * variable set for the bench is passed on to it (e.g. SSH_MAX_HANDSHAKES=200), for experiments.
 */
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const sizes = arg('sizes', '25,100,200').split(',').map(Number);
const repeat = Number(arg('repeat', '1'));
const artifactBytes = Number(arg('artifact-kb', '1024')) * 1024;
const variants = arg('variants', 'abc');
const temporal = arg('temporal', 'dev');
if (temporal !== 'dev' && temporal !== 'cluster') throw new Error(`--temporal ${temporal}: dev or cluster`);
const JOB_TIMEOUT_MS = Number(arg('timeout-seconds', '1800')) * 1000;
/** The goal of the rollout issue, at N = 100. */
const GOAL = { n: 100, aOverB: 1.5, aOverC: 0.1 };

const say = (line: string) => process.stdout.write(`${line}\n`);
const secs = (ms: number | undefined) => (ms === undefined ? '-' : (ms / 1000).toFixed(2));
const median = (xs: number[]) => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return ((s[Math.floor((s.length - 1) / 2)] as number) + (s[Math.ceil((s.length - 1) / 2)] as number)) / 2;
};
const ratio = (x: number | undefined, y: number | undefined) =>
  x === undefined || y === undefined ? undefined : x / y;
const fmtRatio = (r: number | undefined) => (r === undefined ? '-' : r.toFixed(2));

interface Row {
  n: number;
  a: OpscResult[];
  b: FloorResult[];
  c: AnsibleResult[];
  /** Hosts that did not end up with the new file and a backup, per variant, over all repeats. */
  checks: Record<'a' | 'b' | 'c', string[]>;
}

const failuresOf = (row: Row, v: 'a' | 'b' | 'c') => {
  const own =
    v === 'a'
      ? row.a.flatMap((r) => r.failures)
      : v === 'b'
        ? row.b.flatMap((r) => r.failures)
        : row.c.flatMap((r) => r.failures);
  return [...own, ...row.checks[v]];
};

const printOpsc = (r: OpscResult) => {
  const h = r.history;
  say(
    `  a) ${r.jobId} ${r.status} in ${secs(r.wallMs)} s after the approval (POST to awaiting approval ${secs(r.toApprovalMs)} s); history ${h.events} events, ${(h.jsonBytes / 1024).toFixed(0)} KiB JSON (server ${(h.serverBytes / 1024).toFixed(0)} KiB), ${h.runs} run${h.runs === 1 ? '' : 's'}${h.runs > 1 ? ' (continued as new)' : ''}, ${h.children} child workflows`,
  );
  const gaps = r.steps
    .slice(1)
    .map((s, i) => `${((s.firstStart - (r.steps[i]?.lastFinish ?? 0)) * 1000).toFixed(0)} ms`);
  say(
    `     ETA shown at the start: ${r.eta ? `${r.eta.predicted.toFixed(1)} s (steps from ${r.eta.from}) for an actual ${r.eta.actual.toFixed(1)} s, off by ${etaError(r.eta)}` : 'none'}`,
  );
  say(
    `     ETA error: ${formatEtaErrors(r.etaErrors)}${r.etaErrors.shown ? `; shown first: ${r.etaErrors.shown}` : ''}`,
  );
  say(
    `     overhead: approval to the first activity ${((r.steps[0]?.firstStart ?? 0) * 1000).toFixed(0)} ms; between steps ${gaps.join(', ')}; last activity to workflow closed ${(r.closedMs - (r.steps.at(-1)?.lastFinish ?? 0) * 1000).toFixed(0)} ms; then GET ${r.getMs.toFixed(0)} ms (not in the wall time unless it had to poll)`,
  );
  say(
    `     CPU s while it ran: ${shownCpu(r.cpu)
      .map(([label, s]) => `${label} ${s.toFixed(1)}`)
      .join(', ')}`,
  );
  say(
    `   ${machineLine(
      r.machine,
      r.wallMs,
      r.cpu.reduce((sum, [, s]) => sum + s, 0),
      r.steps.reduce((n, s) => n + s.ok, 0),
    )}`,
  );
  // Every host of the rollout is one SSH session held at once (maxParallel = N).
  say(`     ${describeRss(r.executorRss, r.steps[0]?.ok ?? 0)}`);
  const s2s = [...h.scheduleToStartMs].sort((x, y) => x - y);
  const at = (q: number) => (s2s[Math.min(s2s.length - 1, Math.ceil(q * s2s.length) - 1)] ?? 0).toFixed(0);
  say(
    `     Temporal: ${h.workflowTasks} workflow tasks; executor activities scheduled to started p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${at(1)} ms`,
  );
  for (const s of r.steps) {
    say(
      `     ${s.step.padEnd(7)} ${String(s.ok).padStart(4)} ok; activities started +${s.firstStart.toFixed(2)}..+${s.lastStart.toFixed(2)} s, last done +${s.lastFinish.toFixed(2)} s; per host p50 ${s.p50.toFixed(2)} s, max ${s.max.toFixed(2)} s`,
    );
  }
};

const etaError = (eta: { predicted: number; actual: number }) =>
  `${(((eta.predicted - eta.actual) / eta.actual) * 100).toFixed(0)}%`;

const printFailures = (label: string, failures: string[]) => {
  if (failures.length === 0) return;
  say(
    `  ${label}: ${failures.length} failure(s): ${failures.slice(0, 3).join('; ')}${failures.length > 3 ? '; ...' : ''}`,
  );
};

const main = async () => {
  if (variants.includes('c') && !existsSync(ANSIBLE_PLAYBOOK)) {
    throw new Error(
      `${ANSIBLE_PLAYBOOK} is missing: \`bash scripts/setup.sh --test --bench\` installs ansible-core (npm run bench:rollout does)`,
    );
  }
  const largest = Math.max(...sizes);
  const work = await mkdtemp(path.join(os.tmpdir(), 'opsc-bench-rollout-'));
  // PostgreSQL runs as an unprivileged user when we are root; it must be able to enter this folder.
  await chmod(work, 0o755);
  const artifactDir = path.join(work, 'artifacts');
  await mkdir(artifactDir, { recursive: true });
  const artifact = await writeArtifact(artifactDir, artifactBytes);

  let fleet: SshFleet | undefined;
  let stack: BenchStack | undefined;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await stack?.stop();
    await fleet?.stop();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`${signal}: stopping everything the bench started\n`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let ok = false;
  try {
    say(`starting ${largest} sshd hosts...`);
    let t = performance.now();
    fleet = await startSshFleet({
      size: largest,
      logDir: path.join(work, 'fleet-logs'),
      host: () => ({ files: { [DESTINATION]: OLD_CONTENT } }),
    });
    const hosts: BenchHost[] = fleet.hosts.map((h) => ({
      name: h.name,
      address: h.address,
      port: h.port,
      username: h.username,
    }));
    const key = fleet.clientKey.privateKey;
    const keyFile = path.join(work, 'client-key');
    await writeFile(keyFile, key, { mode: 0o600 });
    say(`fleet up in ${secs(performance.now() - t)} s`);
    const setupProblems = await checkAndReset(hosts, key, null);
    if (setupProblems.length)
      throw new Error(`the fleet could not be prepared: ${setupProblems.slice(0, 3).join('; ')}`);

    if (variants.includes('a')) {
      t = performance.now();
      stack = await startBenchStack(work, { artifactDir, maxConcurrentActivities: largest, temporal });
      await addInventory(stack, hosts, key, [1, ...sizes]);
      await uploadArtifact(stack, artifact);
      // Untimed warm-up on one host: the orchestrator's workflow bundle and the first job's code paths.
      const warm = await opscRollout(stack, 1, artifact.sha256, JOB_TIMEOUT_MS);
      if (warm.status !== 'completed')
        throw new Error(
          `the warm-up job ended ${warm.status}: ${warm.failures.slice(0, 3).join('; ')}; logs in ${work}/logs`,
        );
      await checkAndReset(hosts.slice(0, 1), key, null);
      say(
        `OpsConductor up (${temporal === 'cluster' ? 'Temporal cluster: history, matching, worker, two frontends behind HAProxy' : 'Temporal dev server'}, PostgreSQL, orchestrator, executor), inventory of ${hosts.length} targets and a warm-up job in ${secs(performance.now() - t)} s`,
      );
    }
    say(
      `artifact ${(artifact.bytes / 1024).toFixed(0)} KiB; ${os.availableParallelism()} cores; repeat ${repeat}, median wall reported\n`,
    );

    const rows: Row[] = [];
    for (const n of sizes) {
      const row: Row = { n, a: [], b: [], c: [], checks: { a: [], b: [], c: [] } };
      rows.push(row);
      const subset = hosts.slice(0, n);
      for (let i = 0; i < repeat; i += 1) {
        say(`N=${n}, run ${i + 1}/${repeat}`);
        // Interleaved, so drift on the machine hits every variant alike.
        if (stack) {
          await stack.restartExecutor();
          const r = await opscRollout(stack, n, artifact.sha256, JOB_TIMEOUT_MS);
          row.a.push(r);
          row.checks.a.push(...(await checkAndReset(subset, key, artifact.sha256)));
          printOpsc(r);
        }
        if (variants.includes('b')) {
          const r = await floorRollout(subset, key, artifact);
          row.b.push(r);
          row.checks.b.push(...(await checkAndReset(subset, key, artifact.sha256)));
          say(`  b) ssh2 floor in ${secs(r.wallMs)} s; steps ${r.stepMs.map((s) => secs(s)).join(' / ')} s`);
        }
        if (variants.includes('c')) {
          const r = await ansibleRollout(
            path.join(work, `ansible-${n}-${i}`),
            subset,
            keyFile,
            artifact,
            JOB_TIMEOUT_MS,
          );
          row.c.push(r);
          row.checks.c.push(...(await checkAndReset(subset, key, artifact.sha256)));
          say(`  c) ansible-playbook in ${secs(r.wallMs)} s (output: ${r.log})`);
        }
        for (const v of ['a', 'b', 'c'] as const) printFailures(v, failuresOf(row, v));
      }
    }

    say('');
    const header = `${'N'.padStart(4)} ${'a) opsc s'.padStart(10)} ${'b) ssh2 s'.padStart(10)} ${'c) ansible s'.padStart(13)} ${'a/b'.padStart(6)} ${'a/c'.padStart(6)} ${'failed a/b/c'.padStart(13)} ${'a) history events/KiB'.padStart(22)}`;
    say(header);
    say('-'.repeat(header.length));
    for (const row of rows) {
      const a = median(row.a.map((r) => r.wallMs));
      const b = median(row.b.map((r) => r.wallMs));
      const c = median(row.c.map((r) => r.wallMs));
      const failed = (['a', 'b', 'c'] as const)
        .map((v) => new Set(failuresOf(row, v).map((f) => f.split(':')[0])).size)
        .join('/');
      const last = row.a.at(-1)?.history;
      const history = last
        ? `${last.events} / ${(last.jsonBytes / 1024).toFixed(0)}${last.runs > 1 ? ` (${last.runs} runs)` : ''}`
        : '-';
      say(
        `${String(row.n).padStart(4)} ${secs(a).padStart(10)} ${secs(b).padStart(10)} ${secs(c).padStart(13)} ${fmtRatio(ratio(a, b)).padStart(6)} ${fmtRatio(ratio(a, c)).padStart(6)} ${failed.padStart(13)} ${history.padStart(22)}`,
      );
    }
    if (rows.some((r) => r.a.length > 0)) {
      say(
        "\nETA shown at the start vs actual, and its error at the start and at 25% and 50% done (the first run of a size has only the earlier sizes' history for its first hosts, later runs have their own; goal: first run of a size within 20%, repeats within 10%):",
      );
      for (const row of rows) {
        const shown = row.a.map((r) =>
          r.eta
            ? `${r.eta.predicted.toFixed(1)}/${r.eta.actual.toFixed(1)} s (${formatEtaErrors(r.etaErrors)}, ${r.eta.from})`
            : 'none',
        );
        say(`  N=${String(row.n).padEnd(4)} ${shown.join('; ')}`);
      }
    }
    const goalRow = rows.find((r) => r.n === GOAL.n);
    if (goalRow) {
      const a = median(goalRow.a.map((r) => r.wallMs));
      const ab = ratio(a, median(goalRow.b.map((r) => r.wallMs)));
      const ac = ratio(a, median(goalRow.c.map((r) => r.wallMs)));
      const verdict = (r: number | undefined, max: number) =>
        r === undefined ? 'not measured' : r <= max ? 'met' : 'NOT met';
      say(
        `\ngoal at N=${GOAL.n}: a/b <= ${GOAL.aOverB}: ${verdict(ab, GOAL.aOverB)} (${fmtRatio(ab)}); a/c <= ${GOAL.aOverC}: ${verdict(ac, GOAL.aOverC)} (${fmtRatio(ac)})`,
      );
    } else {
      say(`\ngoal at N=${GOAL.n}: not measured (add ${GOAL.n} to --sizes)`);
    }
    ok = rows.every((row) => (['a', 'b', 'c'] as const).every((v) => failuresOf(row, v).length === 0));
    if (!ok) say('some hosts failed');
  } finally {
    await cleanup();
    if (!ok) process.stderr.write(`logs kept in ${work}\n`);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (ok) await rm(work, { recursive: true, force: true });
  }
  if (!ok) process.exitCode = 1;
};

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
