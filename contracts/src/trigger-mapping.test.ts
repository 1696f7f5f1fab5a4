import { describe, expect, it } from 'vitest';
import { applyMapping, parsePayloadPath, readPayloadPath, TriggerMapping } from './trigger-mapping.js';

const alert = {
  status: 'firing',
  commonLabels: { service: 'nginx', 'app.kubernetes.io/name': 'web' },
  alerts: [
    { labels: { instance: 'web-1', severity: 'page' } },
    { labels: { instance: 'web-2' } },
    { labels: { instance: 'web-1' } },
  ],
};

describe('the payload path language', () => {
  it('reads names, quoted keys, indexes and every item', () => {
    expect(readPayloadPath(alert, '$.commonLabels.service')).toEqual({ value: 'nginx' });
    expect(readPayloadPath(alert, "$.commonLabels['app.kubernetes.io/name']")).toEqual({ value: 'web' });
    expect(readPayloadPath(alert, '$.alerts[1].labels.instance')).toEqual({ value: 'web-2' });
    // A wildcard makes a list, each value once.
    expect(readPayloadPath(alert, '$.alerts[*].labels.instance')).toEqual({ value: ['web-1', 'web-2'] });
    expect(readPayloadPath({ n: 3, b: false }, '$.n')).toEqual({ value: 3 });
    expect(readPayloadPath({ n: 3, b: false }, '$.b')).toEqual({ value: false });
  });

  it('says what it cannot find or take', () => {
    expect(readPayloadPath(alert, '$.commonLabels.nope')).toEqual({
      problem: 'the payload has no value at $.commonLabels.nope',
    });
    expect(readPayloadPath(alert, '$.commonLabels')).toEqual({
      problem: '$.commonLabels holds an object, not a value',
    });
    expect(readPayloadPath(alert, '$.alerts[*].labels')).toEqual({
      problem: '$.alerts[*].labels finds objects or lists, not values',
    });
    expect(readPayloadPath(alert, '$.alerts[9].labels.instance')).toMatchObject({
      problem: expect.stringMatching(/no value/),
    });
  });

  it("reads the payload's own keys only, never a prototype's", () => {
    for (const path of ['$.constructor', '$.__proto__', '$.toString', "$.alerts['length']", '$.alerts.length'])
      expect(readPayloadPath(JSON.parse(JSON.stringify(alert)), path)).toMatchObject({ problem: expect.any(String) });
  });

  it('refuses anything but its grammar', () => {
    for (const path of [
      'labels.service',
      '$..x',
      '$.a[?(@.x)]',
      '$.a()',
      '$["a"]',
      '$.a[-1]',
      '$.' + 'a.'.repeat(20) + 'a',
    ])
      expect(parsePayloadPath(path)).toMatchObject({ problem: expect.any(String) });
    expect(TriggerMapping.safeParse({ service: { from: 'labels.service' } }).success).toBe(false);
    expect(TriggerMapping.safeParse({ 'Bad-Name': { value: 'x' } }).success).toBe(false);
    expect(TriggerMapping.safeParse({ service: { from: '$.a', eval: 'x' } }).success).toBe(false);
  });
});

describe('a mapping', () => {
  it('fills parameters from paths, defaults and constants, naming the parameter and the path at fault', () => {
    const mapping = TriggerMapping.parse({
      service: { from: '$.commonLabels.service' },
      where: { value: 'Production Web' },
      hosts: { from: '$.alerts[*].labels.instance' },
      severity: { from: '$.commonLabels.severity', default: 'warning' },
      team: { from: '$.commonLabels.team' },
    });
    expect(applyMapping(mapping, alert)).toEqual({
      params: { service: 'nginx', where: 'Production Web', hosts: ['web-1', 'web-2'], severity: 'warning' },
      issues: [
        {
          path: 'params.team',
          message: 'the payload has no value at $.commonLabels.team (mapped from $.commonLabels.team)',
        },
      ],
      sources: {
        service: '$.commonLabels.service',
        hosts: '$.alerts[*].labels.instance',
        severity: '$.commonLabels.severity',
        team: '$.commonLabels.team',
      },
    });
  });
});
