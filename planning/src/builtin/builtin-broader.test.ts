import { beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_TOOLS_DIR, loadCatalog, type ToolCatalog } from '../catalog/index.js';
import type { InventorySketch } from './entities.js';
import { names, plannerProbe } from './probe.test-support.js';

// Issue 18: how operators really write. Drafts are checked here; the validator's part is in builtin-planner.test.ts.
const inventory: InventorySketch = {
  groups: [
    { name: 'CIS servers', size: 25 },
    { name: 'Production Web', size: 10 },
    { name: 'Data Processing', size: 12 },
    { name: 'Databases', size: 3 },
  ],
  targets: [
    ...names('cis', 25).map((name) => ({ name, os: 'windows' as const })),
    ...names('web', 10).map((name) => ({ name, os: 'linux' as const })),
    ...names('db', 3).map((name) => ({ name, os: 'linux' as const })),
    { name: 'web-server-01', os: 'linux' },
    { name: 'web-server-02', os: 'linux' },
    { name: 'db-01', os: 'linux' },
    { name: 'win-app-01', os: 'windows' },
  ],
};

let catalog: ToolCatalog;
beforeAll(async () => {
  catalog = await loadCatalog([BUILTIN_TOOLS_DIR]);
});
const { drafted, steps, tools, refusal } = plannerProbe(inventory, () => catalog);

describe('generic commands and scripts', () => {
  it('runs a program named without backticks, on a group, a target or every target of an OS', () => {
    expect(steps('run uptime on all linux servers')).toEqual([['run-command', { program: 'uptime', args: [] }]]);
    const all = drafted('run uptime on all linux servers').draft.steps[0]?.targets;
    expect(all?.targets).toHaveLength(16);
    expect(all?.os).toBe('linux');
    expect(steps('execute hostname on Databases')).toEqual([['run-command', { program: 'hostname', args: [] }]]);
    expect(drafted('execute hostname on Databases').draft.steps[0]?.targets).toEqual({ group: 'Databases' });
    expect(steps('run `df -h` on web-server-01')).toEqual([['run-command', { program: 'df', args: ['-h'] }]]);
    expect(steps('run df -h on web-server-01')).toEqual([['run-command', { program: 'df', args: ['-h'] }]]);
    expect(steps('please run the command whoami on win-app-01')).toEqual([
      ['run-command', { program: 'whoami', args: [] }],
    ]);
  });

  it('runs a script in backticks or a fenced block, and a script file by its path', () => {
    expect(steps('run this script on Databases: `apt-get clean && df -h`')).toEqual([
      ['run-script', { script: 'apt-get clean && df -h' }],
    ]);
    expect(steps('run on web-server-01:\n```bash\nsystemctl daemon-reload\nsystemctl restart app\n```')).toEqual([
      ['run-script', { script: 'systemctl daemon-reload\nsystemctl restart app' }],
    ]);
    expect(steps('run the script /opt/tools/cleanup.sh on Production Web')).toEqual([
      ['run-command', { program: '/opt/tools/cleanup.sh', args: [] }],
    ]);
  });

  it('a read-only command leaves the rollout read-only; another gets the change policies', () => {
    expect(drafted('run uptime on Production Web').draft.policies).toEqual({});
    expect(drafted('run `systemctl stop nginx` on Production Web').draft.policies).toMatchObject({
      rollback: 'target',
    });
  });
});

describe('reboot and shutdown', () => {
  it('plans them as steps (destructive, approved), never refuses', () => {
    expect(steps('reboot web-server-01')).toEqual([['system-reboot', {}]]);
    expect(steps('reboot all servers in Production Web')).toEqual([['system-reboot', {}]]);
    expect(steps('shut down web-server-01')).toEqual([['system-shutdown', {}]]);
    expect(steps('power off win-app-01')).toEqual([['system-shutdown', {}]]);
    expect(tools('restart the server web-server-01')).toEqual(['system-reboot']);
    expect(tools('stop nginx on web-server-01 and then reboot it')).toEqual(['service-stop', 'system-reboot']);
    expect(drafted('reboot web-server-01').draft.policies).toMatchObject({ rollback: 'target' });
  });
});

describe('waits', () => {
  it('waits between steps where the request says so', () => {
    expect(steps('stop nginx on web-server-01, then start it again after 30 seconds')).toEqual([
      ['service-stop', { service: 'nginx' }],
      ['wait', { seconds: 30 }],
      ['service-start', { service: 'nginx' }],
      ['service-wait', { service: 'nginx', state: 'running' }],
    ]);
    expect(steps('stop nginx on web-server-01, wait 2 minutes, start nginx')).toEqual([
      ['service-stop', { service: 'nginx' }],
      ['wait', { seconds: 120 }],
      ['service-start', { service: 'nginx' }],
      ['service-wait', { service: 'nginx', state: 'running' }],
    ]);
    expect(tools('restart nginx on Production Web, pause for 10s, then check disk space')).toEqual([
      'service-restart',
      'service-wait',
      'wait',
      'disk-space',
    ]);
    expect(drafted('stop nginx on web-server-01, pause for 10s and start it').draft.steps[1]).toMatchObject({
      id: 'wait',
      tool: 'wait',
      params: { seconds: 10 },
    });
  });
});

describe('concurrency phrases', () => {
  const policies = (r: string) => drafted(r).draft.policies;
  it.each([
    ['restart nginx on Production Web one host at a time', 1],
    ['restart nginx on Production Web, one server at a time', 1],
    ['restart nginx on Production Web two hosts at a time', 2],
    ['restart nginx on Production Web twelve servers at a time', 12],
    ['restart nginx on Production Web serially', 1],
    ['restart nginx on Production Web in batches of 5', 5],
    ['restart nginx on Production Web in batches of three', 3],
    ['restart nginx on Production Web 5 at a time', 5],
    ['restart nginx on CIS servers 10% at a time', 3],
    ['restart nginx on Production Web, 25% at a time', 3],
    ['restart nginx on web-server-01 and web-server-02, 10% at a time', 1],
  ])('%s', (request, maxParallel) => {
    expect(policies(request)?.maxParallel).toBe(maxParallel);
    expect(tools(request)).toEqual(['service-restart', 'service-wait']);
  });

  it('says in the notes when a percentage has no known selection size', () => {
    const answer = drafted("restart nginx on group 'Staging' 10% at a time");
    expect(answer.draft.policies?.maxParallel).toBeUndefined();
    expect(answer.notes.join('\n')).toMatch(/10% at a time/);
  });
});

describe('database queries in plain words', () => {
  const query = (request: string) => {
    const step = drafted(request).draft.steps[0];
    expect(step?.tool).toBe('database-query');
    return step?.params;
  };
  it('writes read-only SQL for what it is asked', () => {
    expect(query('count the rows in the orders table on db-01')).toEqual({ query: 'SELECT count(*) FROM orders' });
    expect(query('how many rows are in sales.orders on db-01')).toEqual({ query: 'SELECT count(*) FROM sales.orders' });
    expect(query('show the first 10 rows of customers on db-01')).toEqual({
      query: 'SELECT * FROM customers LIMIT 10',
    });
    expect(query('list the tables on db-01')?.query).toMatch(/FROM information_schema\.tables/);
    expect(query('how big is the database on db-01')?.query).toMatch(/pg_database_size\(current_database\(\)\)/);
    expect(query('show active connections on Databases')?.query).toMatch(/FROM pg_stat_activity/);
    expect(drafted('show active connections on Databases').draft.steps[0]?.targets).toEqual({ group: 'Databases' });
  });

  it('names a table name it will not put in SQL', () => {
    expect(refusal('count the rows in the "orders;drop" table on db-01')).toMatch(/"orders;drop"/);
    expect(refusal('show the first 10 rows of order-items on db-01')).toMatch(/"order-items"/);
  });

  it('writes the three whole-table changes said in plain words, with writes allowed (destructive), and no other', () => {
    expect(query('truncate the sessions table on db-01')).toEqual({
      query: 'TRUNCATE TABLE sessions',
      allowWrites: true,
    });
    expect(query('drop the temp_import table on db-01')).toEqual({
      query: 'DROP TABLE temp_import',
      allowWrites: true,
    });
    expect(query('delete all rows from the jobs table on db-01')).toEqual({
      query: 'DELETE FROM jobs',
      allowWrites: true,
    });
    expect(refusal('delete all rows from jobs older than a week on db-01')).toMatch(/backticks/);
    expect(refusal('truncate the "orders;drop" table on db-01')).toMatch(/"orders;drop"/);
  });

  it('runs a backticked write with writes allowed, and never writes other SQL from a description', () => {
    expect(query('on db-01 run the SQL `DELETE FROM sessions WHERE expired`')).toEqual({
      query: 'DELETE FROM sessions WHERE expired',
      allowWrites: true,
    });
    expect(query('query Databases: `UPDATE orders SET status = 1 WHERE id = 7`')).toMatchObject({ allowWrites: true });
    expect(refusal('delete the old rows from the sessions table on db-01')).toMatch(/SQL.*backticks/);
    expect(refusal('insert a row into customers on db-01')).toMatch(/backticks/);
    expect(refusal('drop the production database')).toMatch(/can't plan/);
  });

  it('refuses backticked SQL of several statements, whatever its first word, and never plans it as a read', () => {
    for (const request of [
      'query db-01: `select 1; commit; drop table users`',
      'query db-01: `show x; set transaction read write; delete from users`',
      'on db-01 run the SQL `DELETE FROM a; DELETE FROM b`',
    ])
      expect(refusal(request), request).toMatch(/one SQL statement per step/);
    expect(query("query db-01: `select 'a;b' from t;`")).toEqual({ query: "select 'a;b' from t;" });
  });

  it('plans a read that signals other sessions read-only (the validator rates it destructive, for approval)', () => {
    expect(query('query db-01: `select pg_terminate_backend(pid) from pg_stat_activity`')).toEqual({
      query: 'select pg_terminate_backend(pid) from pg_stat_activity',
    });
  });
});

describe('words inside paths, quotes, URLs and backticks are not instructions', () => {
  it('copies a file whose path holds a refusal word', () => {
    expect(steps('copy build/kill-switch.exe to C:\\Tools\\delete\\app.exe on win-app-01')).toEqual([
      ['file-copy', { source: 'build/kill-switch.exe', destination: 'C:\\Tools\\delete\\app.exe' }],
    ]);
    expect(tools('check https://example.org/reboot/now answers')).toEqual(['http-check']);
    expect(tools('check disk space of /srv/restart-me on web-server-01')).toEqual(['disk-space']);
    expect(tools('run `echo reboot` on web-server-01')).toEqual(['run-command']);
  });

  it('splits Windows sources and destinations joined by "to"', () => {
    expect(steps('copy C:\\Build\\app.exe to C:\\Program Files\\App\\app.exe on win-app-01')).toEqual([
      ['file-copy', { source: 'C:\\Build\\app.exe', destination: 'C:\\Program Files\\App\\app.exe' }],
    ]);
    expect(steps('copy \\\\share\\builds\\app.exe to D:\\App\\ on win-app-01')).toEqual([
      ['file-copy', { source: '\\\\share\\builds\\app.exe', destination: 'D:\\App\\app.exe' }],
    ]);
  });
});

describe('what could not be used is named', () => {
  it('does not run shell operators outside backticks, and says which text it left out', () => {
    const answer = drafted('run uptime; rm -rf / on web-server-01');
    expect(answer.draft.steps.map((s) => [s.tool, s.params])).toEqual([
      ['run-command', { program: 'uptime', args: [] }],
    ]);
    expect(answer.notes.join('\n')).toMatch(/not used: "rm -rf \/"/);
    const chained = drafted('restart nginx && reboot on web-server-01');
    expect(chained.draft.steps.map((s) => s.tool)).toEqual(['service-restart', 'service-wait']);
    expect(chained.notes.join('\n')).toMatch(/not used: "&& reboot".*shell/);
    expect(drafted('run uptime | grep load on web-server-01').notes.join('\n')).toMatch(/not used: "\| grep load"/);
  });

  it("names a refusal's unused text too", () => {
    expect(refusal('make me a sandwich && reboot')).toMatch(/Not used: "&& reboot"/);
    expect(drafted('restart nginx && reboot').notes.join('\n')).toMatch(/&& reboot/);
  });
});

describe('unknown groups and targets', () => {
  it('names the unknown group and the closest ones', () => {
    const answer = drafted("restart nginx on group 'CIS server'");
    expect(answer.draft.steps[0]?.targets).toEqual({ group: 'CIS server' });
    expect(answer.notes.join('\n')).toMatch(/no group 'CIS server'.*'CIS servers'/);
  });

  it('names an unknown host-like target and the closest names', () => {
    const answer = drafted('restart nginx on web-server-1');
    expect(answer.draft.steps[0]?.targets).toEqual({ targets: ['web-server-1'] });
    expect(answer.notes.join('\n')).toMatch(/no target 'web-server-1'.*'web-server-01'/);
  });
});

describe('more of how operators write', () => {
  it('reads a service named after "status of", "called", "check X on" and "make sure X is running"', () => {
    expect(steps('check the status of sshd on every Production Web server')).toEqual([
      ['service-status', { service: 'sshd' }],
    ]);
    expect(steps('check the status of the service called update-notifier on web-server-02')).toEqual([
      ['service-status', { service: 'update-notifier' }],
    ]);
    expect(tools('check nginx status on Production Web')).toEqual(['service-status']);
    expect(steps('make sure postgresql is running on db-01')).toEqual([
      ['service-wait', { service: 'postgresql', state: 'running' }],
    ]);
    expect(tools('kick the haproxy service on web-server-01')).toEqual(['service-restart', 'service-wait']);
  });

  it('restores what a backup saved, and backs up one file or a package configuration', () => {
    expect(steps('restore the config archive /var/backups/opsc/nginx.tar.gz on web-server-01')).toEqual([
      ['config-restore', { archive: '/var/backups/opsc/nginx.tar.gz' }],
    ]);
    expect(steps('restore the config backup on web-server-01')).toEqual([['config-restore', {}]]);
    expect(steps('put back the original /etc/myapp/app.conf on web-server-01')).toEqual([
      ['file-restore', { destination: '/etc/myapp/app.conf' }],
    ]);
    expect(steps('save a copy of /etc/hosts on every Production Web server')).toEqual([
      ['file-backup', { path: '/etc/hosts' }],
    ]);
    expect(steps('take a backup of the nginx config on Production Web')).toEqual([
      ['config-backup', { paths: ['/etc/nginx'] }],
    ]);
    // "backup-agent" is a name, "start it back up" a start: neither is a backup.
    expect(tools('check the status of the backup-agent service on web-server-01')).toEqual(['service-status']);
    expect(tools('stop nginx on web-server-01, then start it back up')).toEqual([
      'service-stop',
      'service-start',
      'service-wait',
    ]);
  });

  it('more waits: "give it a minute", "N seconds later", "between stopping and starting"', () => {
    expect(tools('stop the spooler service on win-app-01, give it a minute, then start it back up')).toEqual([
      'service-stop',
      'wait',
      'service-start',
      'service-wait',
    ]);
    expect(steps('stop tomcat on web-server-02 and 90 seconds later start it again').slice(0, 3)).toEqual([
      ['service-stop', { service: 'tomcat' }],
      ['wait', { seconds: 90 }],
      ['service-start', { service: 'tomcat' }],
    ]);
    expect(steps('pause for 45 seconds between stopping and starting W3SVC on win-app-01').slice(0, 3)).toEqual([
      ['service-stop', { service: 'W3SVC' }],
      ['wait', { seconds: 45 }],
      ['service-start', { service: 'W3SVC' }],
    ]);
  });

  it('asks for what a request leaves out instead of refusing it', () => {
    expect(steps('run a script on win-app-01')).toEqual([['run-script', {}]]);
    expect(steps('query db-01')).toEqual([['database-query', {}]]);
    expect(steps('install a package on web-server-01')).toEqual([['package-install', {}]]);
  });

  it('narrows a group to the OS a one-OS tool runs on, and says so', () => {
    const answer = drafted('check disk space on all Data Processing servers');
    expect(answer.draft.steps[0]?.targets).toEqual({ group: 'Data Processing', os: 'linux' });
    expect(answer.notes.join('\n')).toMatch(/disk-space runs on Linux/);
    expect(drafted('update openssl on every Data Processing server').draft.steps.map((s) => s.targets)).toEqual([
      { group: 'Data Processing', os: 'linux' },
      { group: 'Data Processing', os: 'linux' },
    ]);
  });

  it('names backticked text no step took, and takes a whole-fleet target', () => {
    const answer = drafted('check the status of service `nginx; systemctl stop sshd` on web-server-01');
    expect(answer.notes.join('\n')).toMatch(/not used: `nginx; systemctl stop sshd`/);
    expect(
      drafted('check the status of the backup-agent service on every server we have').draft.steps[0]?.targets?.targets,
    ).toHaveLength(inventory.targets.length);
  });

  it('reads failure thresholds, approval and timeouts', () => {
    const policies = (r: string) => drafted(r).draft.policies;
    expect(policies('update curl on Production Web, abort if more than 20% of the servers fail')).toMatchObject({
      maxFailPercentage: 20,
      onFailThreshold: 'abort',
    });
    expect(policies('update bash on Production Web; if more than 10% fail, ask me before continuing')).toMatchObject({
      maxFailPercentage: 10,
      onFailThreshold: 'ask',
    });
    expect(policies('check the nginx status on Production Web but require approval anyway')).toMatchObject({
      approval: 'required',
    });
    expect(policies('restart nginx on Production Web with a 2 minute timeout per server')).toMatchObject({
      timeoutSeconds: 120,
    });
    expect(policies("restart W3SVC on the CIS servers three at a time and don't roll anything back")).toMatchObject({
      maxParallel: 3,
      rollback: 'none',
    });
  });
});
