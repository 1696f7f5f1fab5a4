import { describe, expect, it } from 'vitest';
import { isPlainLine, toPlainLine } from './plain-text.js';
import { PLAN_TITLE_MAX, PlanTitle, planTitle, summarizeSteps } from './plan-title.js';

const web = { group: 'Production Web' };

describe('summarizeSteps', () => {
  it("names the seed's plans as the seed does", () => {
    expect(
      summarizeSteps([
        { tool: 'package-version', params: { package: 'nginx' }, targets: web },
        { tool: 'config-backup', params: { paths: ['/etc/nginx'] }, targets: web },
        { tool: 'package-update', params: { package: 'nginx' }, targets: web },
        { tool: 'service-restart', params: { service: 'nginx' }, targets: web },
      ]),
    ).toBe('Update nginx on Production Web');
    const cis = { group: 'CIS Servers' };
    expect(
      summarizeSteps([
        { tool: 'service-status', params: { service: 'StationController' }, targets: cis },
        { tool: 'service-stop', params: { service: 'stationcontroller' }, targets: cis },
        {
          tool: 'file-copy',
          params: { source: 'StationController.exe', destination: 'C:\\Apps\\StationController.exe' },
          targets: cis,
        },
        { tool: 'service-start', params: { service: 'stationcontroller' }, targets: cis },
      ]),
    ).toBe('Update StationController on CIS Servers');
    expect(
      summarizeSteps([
        { tool: 'service-stop', params: { service: 'dataprocessor' }, targets: { group: 'Data Processing' } },
      ]),
    ).toBe('Stop dataprocessor on Data Processing');
  });

  it('says where without a group, and reads steps that run on the executor', () => {
    expect(
      summarizeSteps([{ tool: 'service-restart', params: { service: 'nginx' }, targets: { targets: ['web-01'] } }]),
    ).toBe('Restart nginx on web-01');
    expect(summarizeSteps([{ tool: 'run-script', params: {}, targets: { targets: ['a', 'b', 'c'] } }])).toBe(
      'Run a script on 3 targets',
    );
    expect(summarizeSteps([{ tool: 'http-check', params: { url: 'https://example.test/health' } }])).toBe(
      'Check example.test',
    );
  });

  it('keeps what a parameter says plain and bounded', () => {
    const title = summarizeSteps([
      { tool: 'service-stop', params: { service: `evil\n\u202Ename${'x'.repeat(300)}` }, targets: web },
    ]);
    expect(isPlainLine(title)).toBe(true);
    expect(title.length).toBeLessThanOrEqual(PLAN_TITLE_MAX);
  });
});

describe('planTitle', () => {
  const steps = [{ tool: { name: 'service-restart', params: { service: 'nginx' } }, targets: web }];
  it("is the plan's title; else its name unless that is the raw request; else the summary", () => {
    expect(planTitle({ name: 'x', title: 'Nightly restart', steps })).toBe('Nightly restart');
    expect(planTitle({ name: 'restart nginx on the web servers', steps }, 'something else')).toBe(
      'restart nginx on the web servers',
    );
    const request = `please restart nginx on all servers in 'Production Web' ${'and more '.repeat(20)}`;
    expect(planTitle({ name: `${request.slice(0, 117)}...`, steps }, request)).toBe('Restart nginx on Production Web');
    expect(planTitle({ name: request.trim(), steps }, request)).toBe('Restart nginx on Production Web');
  });
});

describe('PlanTitle and toPlainLine', () => {
  it('takes one bounded line of plain text, and makes any text one', () => {
    expect(PlanTitle.parse('  <b>Update</b> nginx  ')).toBe('<b>Update</b> nginx');
    for (const bad of ['', 'two\nlines', 'tab\there', 'bidi \u202Etxt', 'nul \0', 'x'.repeat(121)])
      expect(PlanTitle.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    expect(toPlainLine(' a\n\tb \u2066c\u2069 ', 120)).toBe('a b c');
    const cut = toPlainLine('😀'.repeat(100), 9);
    expect(cut).toBe('😀😀😀😀…');
    expect(cut.length).toBeLessThanOrEqual(9);
  });
});

describe('PlanTitle against hidden text', () => {
  // Invisible format characters: a title an approver reads is not the title stored. The bidi marks
  // (LRM, RLM, ALM) reorder what is around them, zero-width ones split or join words unseen, tag
  // characters carry a whole hidden ASCII text, and Hangul fillers look like blanks.
  const hidden = [
    'Restart\u200F nginx',
    'Restart\u200E nginx',
    'Restart\u061C nginx',
    'Re\u200Bstart nginx',
    'Re\u2060start nginx',
    'Restart\uFEFF nginx',
    `Restart nginx${[...'approved'].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('')}`,
    'Restart\u3164nginx',
    'Restart\u115Fnginx',
    'Restart\u00ADnginx',
  ];

  it('refuses a title with invisible format characters', () => {
    for (const bad of hidden) expect(PlanTitle.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
  });

  it('makes any text one line without them, and keeps emoji sequences whole', () => {
    for (const text of hidden) expect(isPlainLine(toPlainLine(text, 120)), JSON.stringify(text)).toBe(true);
    expect(toPlainLine(hidden[6]!, 120)).toBe('Restart nginx');
    expect(toPlainLine('Deploy 👩\u200D💻 build', 120)).toBe('Deploy 👩\u200D💻 build');
    expect(PlanTitle.safeParse('Deploy 👩\u200D💻 build').success).toBe(true);
  });
});

describe('PlanTitle against stacked marks', () => {
  // A base letter under a hundred combining marks draws far above and below its line, over the
  // page's other text and buttons; no script needs more than four marks on one letter.
  const zalgo = `Restart nginx${'\u0303\u0315\u0334\u0358'.repeat(20)}`;

  it('refuses a run of more than four combining marks, and keeps accented text of any script', () => {
    expect(PlanTitle.safeParse(zalgo).success).toBe(false);
    for (const ok of ['Mise à jour de nginx', 'Cập nhật nginx', 'नगिनक्स अपडेट', 'Ελληνικά ᾅ'])
      expect(PlanTitle.safeParse(ok).success, ok).toBe(true);
  });

  it('cuts such a run to four marks when it makes text a line', () => {
    const line = toPlainLine(zalgo, 120);
    expect(isPlainLine(line)).toBe(true);
    expect(line).toBe(`Restart nginx${'\u0303\u0315\u0334\u0358'}`);
  });
});
