import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgOutputLineSink } from '@opsc/activities/execution';
import { startProxy } from '../support/pg-proxy.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';

// Output lines reach `output_lines` while a step runs, in order, per stream, per attempt.
let h: SshHarness;

beforeAll(async () => {
  h = await startSshHarness('output-lines', { size: 1, localCommands: ['sh'], lines: { maxLinesPerAttempt: 100 } });
}, 180_000);

afterAll(async () => {
  await h?.close();
});

interface LineRow {
  seq: string;
  step_id: string;
  target_id: string;
  target_name: string;
  attempt: number;
  stream: string;
  line: string;
  at: Date;
}

const linesOf = async (stepId: string): Promise<LineRow[]> =>
  (
    await h.stack.pool.query<LineRow>('SELECT * FROM output_lines WHERE job_id = $1 AND step_id = $2 ORDER BY seq', [
      h.jobId,
      stepId,
    ])
  ).rows;

/** Polls until `line` is in PostgreSQL; returns when it was first seen there. */
const seenAt = async (stepId: string, line: string, timeoutMs = 20_000): Promise<number> => {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const rows = await linesOf(stepId);
    if (rows.some((r) => r.line.startsWith(line))) return Date.now();
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${line} never reached output_lines`);
};

describe('output lines over SSH', () => {
  it('has each line in PostgreSQL within a second of the target printing it, while the step still runs', async () => {
    // Each line carries the target's clock (the same machine: loopback hosts) in milliseconds.
    const script = 'for i in 1 2 3; do echo "tick $i $(date +%s%3N)"; sleep 1; done; echo "warn" >&2; sleep 1';
    let finished = 0;
    const running = h
      .run(0, { op: 'script', shell: 'sh', script }, { stepId: 'ticks' })
      .then((out) => ((finished = Date.now()), out));
    const delays: number[] = [];
    for (const i of [1, 2, 3]) {
      const at = await seenAt('ticks', `tick ${i} `);
      const printed = Number((await linesOf('ticks')).find((r) => r.line.startsWith(`tick ${i} `))?.line.split(' ')[2]);
      delays.push(at - printed);
      expect(finished, `tick ${i} seen before the step ended`).toBe(0);
    }
    expect(Math.max(...delays), `delays ${delays.join(', ')} ms`).toBeLessThan(1_000);
    const out = await running;
    expect(out.exitCode).toBe(0);

    const rows = await linesOf('ticks');
    expect(rows.map((r) => [r.stream, r.line.replace(/ \d+$/, '')])).toEqual([
      ['stdout', 'tick 1'],
      ['stdout', 'tick 2'],
      ['stdout', 'tick 3'],
      ['stderr', 'warn'],
    ]);
    expect(rows[0]).toMatchObject({ target_id: h.targetIds[0], target_name: h.fleet.hosts[0]?.name, attempt: 1 });
  });

  it('keeps a multi-byte character that arrives split across two packets intact, and the unterminated last line', async () => {
    // é is \303\251: the halves are sent a moment apart, so they arrive in separate SSH data packets.
    await h.run(
      0,
      { op: 'script', shell: 'sh', script: "printf 'caf\\303'; sleep 0.5; printf '\\251 ok\\n'; printf 'no newline'" },
      { stepId: 'utf8' },
    );
    expect((await linesOf('utf8')).map((r) => r.line)).toEqual(['café ok', 'no newline']);
  });

  it('orders lines by seq as they were printed, interleaving stdout and stderr, and leaves out fact lines', async () => {
    await h.run(
      0,
      {
        op: 'script',
        shell: 'sh',
        script: 'for i in $(seq 1 40); do echo "out $i"; echo "err $i" >&2; sleep 0.01; done',
      },
      { stepId: 'order' },
    );
    const rows = await linesOf('order');
    expect(rows.filter((r) => r.stream === 'stdout').map((r) => r.line)).toEqual(
      Array.from({ length: 40 }, (_, i) => `out ${i + 1}`),
    );
    expect(rows.filter((r) => r.stream === 'stderr').map((r) => r.line)).toEqual(
      Array.from({ length: 40 }, (_, i) => `err ${i + 1}`),
    );
    const seqs = rows.map((r) => BigInt(r.seq));
    expect(seqs).toEqual([...seqs].sort((a, b) => (a < b ? -1 : 1)));

    const facts = await h.run(0, { op: 'disk-usage', path: '/' }, { stepId: 'facts' });
    expect(facts.facts?.mount).toBe('/');
    const factRows = await linesOf('facts');
    expect(factRows.length).toBeGreaterThan(0);
    expect(factRows.some((r) => r.line.includes('@@opsc-'))).toBe(false);
  });

  it('streams up to the per-attempt cap, then says how many lines it left out', async () => {
    const out = await h.run(0, { op: 'run', argv: ['seq', '1', '250'] }, { stepId: 'capped' });
    expect(out.stdout.split('\n')).toHaveLength(251);
    const rows = await linesOf('capped');
    expect(rows).toHaveLength(101);
    expect(rows[99]?.line).toBe('100');
    expect(rows[100]?.line).toBe('… 150 more lines not streamed (full output is in the step result)');
  });
});

describe('output lines of local commands', () => {
  it('streams a local command while it runs and has all of it in PostgreSQL when the activity returns', async () => {
    const stepId = `local-${randomUUID().slice(0, 8)}`;
    const env = new MockActivityEnvironment();
    let finished = false;
    const running = env
      .run(h.base.executor.activities.runLocalCommand, {
        jobId: h.jobId,
        tenantId: h.admin.tenantId,
        stepId,
        target: { id: 'executor', name: 'executor' },
        timeoutSeconds: 30,
        command: 'sh',
        args: ['-c', 'echo first; sleep 6; echo "second\r"; printf "last" >&2'],
      })
      .finally(() => (finished = true));
    await seenAt(stepId, 'first', 5_000);
    expect(finished).toBe(false);
    await running;
    // No waiting: the activity flushed its lines before it returned.
    expect((await linesOf(stepId)).map((r) => [r.stream, r.line, r.target_id])).toEqual([
      ['stdout', 'first', 'executor'],
      ['stdout', 'second', 'executor'],
      ['stderr', 'last', 'executor'],
    ]);
  });
});

describe('the output line writer when PostgreSQL goes away', () => {
  it('keeps lines queued without failing the step, writes them in order when it is back, and drops only what PostgreSQL refuses', async () => {
    const direct = new URL(h.stack.roleUrls.executor);
    const proxy = await startProxy(direct.hostname, Number(direct.port));
    const viaProxy = new URL(direct);
    viaProxy.port = String(proxy.port);
    const pool = new pg.Pool({ connectionString: viaProxy.toString(), max: 2, connectionTimeoutMillis: 1_000 });
    pool.on('error', () => undefined);
    const sink = createPgOutputLineSink(pool, { closeTimeoutMs: 500 });
    const key = (jobId: string, stepId: string) => ({
      jobId,
      stepId,
      targetId: 't-1',
      targetName: 'web-01',
      attempt: 1,
    });
    try {
      await proxy.down();
      const out = sink.open(key(h.jobId, 'outage'));
      out.write('stdout', Buffer.from('one\ntwo\nthr'));
      out.write('stdout', Buffer.from('ee'));
      const started = Date.now();
      await out.close();
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(sink.stats()).toMatchObject({ queued: 3, written: 0 });
      expect(await linesOf('outage')).toEqual([]);

      await proxy.up();
      await expect
        .poll(async () => (await linesOf('outage')).map((r) => r.line), { timeout: 15_000, interval: 100 })
        .toEqual(['one', 'two', 'three']);

      // In one batch: lines of a job that does not exist (refused for good) and of one that does.
      const gone = sink.open(key('job-deleted', 'gone'));
      const kept = sink.open(key(h.jobId, 'kept'));
      gone.writeText('stdout', 'lost');
      kept.writeText('stdout', 'kept');
      // close() waits half a second at most; the refused batch is split and written again behind it.
      await Promise.all([gone.close(), kept.close()]);
      await expect
        .poll(async () => (await linesOf('kept')).map((r) => r.line), { timeout: 10_000, interval: 100 })
        .toEqual(['kept']);
      await expect
        .poll(() => sink.stats(), { timeout: 10_000, interval: 100 })
        .toEqual({ written: 4, dropped: 1, queued: 0 });
    } finally {
      await sink.close(1_000);
      await pool.end();
      await proxy.down();
    }
  });
});
