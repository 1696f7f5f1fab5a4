import { beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_TOOLS_DIR, loadCatalog, type ToolCatalog } from '../catalog/index.js';
import type { InventorySketch } from './entities.js';
import { names, plannerProbe } from './probe.test-support.js';

// Issue 18 review: what the built-in planner cannot do is said, never done some other way.
const inventory: InventorySketch = {
  groups: [
    { name: 'CIS servers', size: 25 },
    { name: 'Production Web', size: 10 },
    { name: 'Databases', size: 3 },
  ],
  targets: [
    ...names('cis', 25).map((name) => ({ name, os: 'windows' as const })),
    ...names('web', 10).map((name) => ({ name, os: 'linux' as const })),
    ...names('db', 3).map((name) => ({ name, os: 'linux' as const })),
    { name: 'web-server-01', os: 'linux' },
    { name: 'win-app-01', os: 'windows' },
  ],
};

let catalog: ToolCatalog;
beforeAll(async () => {
  catalog = await loadCatalog([BUILTIN_TOOLS_DIR]);
});
const { drafted, refusal } = plannerProbe(inventory, () => catalog);
const placed = (request: string) => drafted(request).draft.steps.map((s) => [s.tool, s.targets]);

describe('targets: exclusions and a selector per clause', () => {
  it('refuses an exclusion instead of planning on the excluded name or ignoring it', () => {
    for (const request of [
      'reboot every server except db-01',
      'stop postgresql on all servers except db-01',
      'restart nginx on Production Web but not web-03',
      'check disk space on all linux servers other than web-02',
      'restart nginx on Production Web excluding web-03 and web-04',
      'update curl everywhere apart from the Databases group',
      'restart nginx on Production Web without web-03',
      // A service left out is refused too: planned, the one named would be the one stopped.
      'stop all services except the php-fpm service on web-01',
      'stop every service other than sshd on web-01',
      'restart everything but nginx on web-01',
      'check nginx but not restart it on web-01',
      'restart nginx on web-01 but not now',
    ]) {
      const message = refusal(request);
      expect(message, request).toMatch(/exclu/i);
      expect(message, request).toMatch(/name the targets/i);
      expect(message, request).toMatch(/edit the plan's targets/i);
    }
    expect(refusal('reboot every server except db-01')).toMatch(/"except db-01"/);
  });

  it('does not read an exclusion into words that are not about targets', () => {
    expect(placed('restart nginx on Production Web without downtime')[0]).toEqual([
      'service-restart',
      { group: 'Production Web' },
    ]);
    expect(refusal('reboot web-01 and web-02, except if they are busy')).toMatch(/conditional/);
    expect(placed('restart nginx on web-01 without any downtime')[0]).toEqual([
      'service-restart',
      { targets: ['web-01'] },
    ]);
  });

  it('gives each step the selector its own clause names, carried to clauses that name none', () => {
    expect(placed('restart nginx on web-server-01, then stop it on Production Web')).toEqual([
      ['service-restart', { targets: ['web-server-01'] }],
      ['service-wait', { targets: ['web-server-01'] }],
      ['service-stop', { group: 'Production Web' }],
    ]);
    expect(placed('on web-01 restart nginx, check disk space, then on Databases check disk space')).toEqual([
      ['service-restart', { targets: ['web-01'] }],
      ['service-wait', { targets: ['web-01'] }],
      ['disk-space', { targets: ['web-01'] }],
      ['disk-space', { group: 'Databases', os: 'linux' }],
    ]);
    // One selector in the whole request: every step on it, as before.
    expect(placed('check the nginx service, then restart it on Production Web')).toEqual([
      ['service-status', { group: 'Production Web' }],
      ['service-restart', { group: 'Production Web' }],
      ['service-wait', { group: 'Production Web' }],
    ]);
  });

  it('names every known target or group the request names that the plan does not act on', () => {
    const answer = drafted('restart nginx on web-03 and Production Web');
    expect(answer.draft.steps[0]?.targets).toEqual({ group: 'Production Web' });
    expect(answer.notes.join('\n')).toMatch(/'web-03'.*no step acts on it/);
    const later = drafted('restart nginx on web-server-01. Databases too');
    expect(later.notes.join('\n')).toMatch(/'web-server-01'.*no step acts on it/);
  });
});

describe('file words are not table writes', () => {
  it('refuses file, cache and log wording instead of writing TRUNCATE or DELETE', () => {
    expect(refusal('truncate the log file /var/log/app.log on db-01')).toMatch(/truncate/i);
    expect(refusal('empty the nginx cache on web-server-01')).toMatch(/empty the nginx cache/);
    expect(refusal('remove all entries from the log on db-01')).toMatch(/remove all entries from the log/);
    expect(refusal('delete all rows from jobs on db-01')).toMatch(/backticks/);
  });

  it('still writes the whole-table change when the phrase says table (or rows and a database word)', () => {
    const query = (request: string) => drafted(request).draft.steps[0]?.params;
    expect(query('truncate the sessions table on db-01')).toEqual({
      query: 'TRUNCATE TABLE sessions',
      allowWrites: true,
    });
    expect(query('truncate table sessions on db-01')).toMatchObject({ query: 'TRUNCATE TABLE sessions' });
    expect(query('truncate the table "sessions" on db-01')).toMatchObject({ query: 'TRUNCATE TABLE sessions' });
    expect(query('empty the jobs table on db-01')).toMatchObject({ query: 'TRUNCATE TABLE jobs' });
    expect(query('delete all rows from the jobs table on db-01')).toEqual({
      query: 'DELETE FROM jobs',
      allowWrites: true,
    });
    expect(query('delete all records from jobs in the app database on db-01')).toMatchObject({
      query: 'DELETE FROM jobs',
    });
  });
});

describe('conditions and repetition', () => {
  it('refuses a change guarded by a condition', () => {
    for (const request of [
      'on db-01 restart postgresql if the queue is empty',
      'restart nginx on Production Web unless it is already running',
      'stop the spooler on win-app-01 only when no jobs are queued',
      'reboot web-01 in case the update needs it',
    ]) {
      const message = refusal(request);
      expect(message, request).toMatch(/can't make a step conditional/);
    }
    expect(refusal('on db-01 restart postgresql if the queue is empty')).toMatch(/"if the queue is empty"/);
  });

  it('notes a condition on a read-only plan: the plan runs once, unconditionally', () => {
    const answer = drafted('check disk space on db-01 if the backup ran');
    expect(answer.draft.steps.map((s) => s.tool)).toEqual(['disk-space']);
    expect(answer.notes.join('\n')).toMatch(/"if the backup ran".*unconditionally/);
  });

  it('does not read a question or a rollout policy as a condition', () => {
    expect(drafted('check if nginx is running on web-01').notes.join('\n')).not.toMatch(/condition/);
    expect(drafted('see if sshd is running on web-01').notes.join('\n')).not.toMatch(/condition/);
    expect(drafted('tell me if nginx is running on web-01').notes.join('\n')).not.toMatch(/condition/);
    expect(drafted('find out whether nginx is running on web-01').notes.join('\n')).not.toMatch(/condition/);
    expect(drafted('restart nginx on Production Web and keep going if a server fails').kind).toBe('plan');
    expect(drafted('stop nginx on Production Web; if anything fails roll back everything').kind).toBe('plan');
  });

  it('notes repetition: the plan runs once, schedules are not supported yet', () => {
    for (const request of [
      'run `uptime` on db-01 every 5 minutes',
      'check disk space on db-01 hourly',
      'check disk space on Databases every day',
      'check nginx on web-01 daily',
      'check disk space on db-01 every two hours',
      'restart nginx on web-01 tonight',
    ]) {
      const answer = drafted(request);
      expect(answer.notes.join('\n'), request).toMatch(/runs once.*schedules are not supported yet/);
    }
    expect(drafted('run `uptime` on db-01 every 5 minutes').notes.join('\n')).toMatch(/"every 5 minutes"/);
    expect(drafted('check disk space on every server').notes.join('\n')).not.toMatch(/schedule/);
  });
});

describe('numbers that are not usable, and rows in no order', () => {
  it('says a batch size below one was not usable and that 1 is used', () => {
    for (const [request, phrase] of [
      ['restart nginx on Production Web in batches of 0', 'in batches of 0'],
      ['restart nginx on Production Web 0% at a time', '0% at a time'],
      ['restart nginx on Production Web -1 hosts at a time', '-1 hosts at a time'],
    ] as const) {
      const answer = drafted(request);
      expect(answer.draft.policies?.maxParallel, request).toBe(1);
      expect(answer.notes.join('\n'), request).toContain(`"${phrase}"`);
      expect(answer.notes.join('\n'), request).toMatch(/not a usable (?:number|share).*uses 1\b/);
    }
    expect(drafted('restart nginx on Production Web in batches of 5').notes.join('\n')).not.toMatch(/not a usable/);
    // A hyphen inside a name is not a minus sign.
    expect(drafted('restart nginx on node-3 at a time').draft.policies?.maxParallel).toBe(3);
  });

  it('says which rows "most recent" returns when no column orders them', () => {
    const answer = drafted('show the 10 most recent rows of the audit_log table on db-01');
    expect(answer.draft.steps[0]?.params?.query).toMatch(/LIMIT 10 -- /);
    expect(answer.notes.join('\n')).toMatch(/audit_log.*not.*newest.*ORDER BY/);
  });
});
