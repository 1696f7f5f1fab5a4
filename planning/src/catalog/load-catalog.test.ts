import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_TOOLS_DIR, loadCatalog, parseToolFile, ToolCatalogError } from './index.js';

const GOOD = `name: demo-stop
description: Stops a demo service on targets.
summary: 'Stop {{service}}'
risk: change
typicalDurationSeconds: 3
params:
  service:
    type: string
    description: The service
    required: true
execution:
  linux:
    method: ssh
    operation: { op: service, action: stop, name: '{{service}}' }
rollback:
  tool: demo-stop
  params: { service: '{{service}}' }
check:
  linux:
    method: ssh
    operation: { op: service-check, action: stop, name: '{{service}}' }
`;

const errorOf = (text: string): ToolCatalogError => {
  try {
    parseToolFile(text, 'tools/demo.yaml');
  } catch (err) {
    if (err instanceof ToolCatalogError) return err;
    throw err;
  }
  throw new Error('expected the tool file to be refused');
};

describe('the tool catalog', () => {
  it('loads the shipped tools, covering what the seeds ask for', async () => {
    const catalog = await loadCatalog([BUILTIN_TOOLS_DIR]);
    const names = catalog.all().map((t) => t.name);
    for (const wanted of [
      'ping',
      'traceroute',
      'http-check',
      'disk-space',
      'run-command',
      'run-script',
      'service-status',
      'service-start',
      'service-stop',
      'service-restart',
      'service-wait',
      'process-check',
      'package-version',
      'package-install',
      'package-update',
      'file-copy',
      'file-backup',
      'file-restore',
      'config-backup',
      'config-restore',
      'event-log-query',
      'database-query',
    ]) {
      expect(names).toContain(wanted);
    }
    expect(catalog.get('file-copy')?.rollback).toEqual({
      tool: 'file-restore',
      params: { destination: '{{destination}}', backup: '{{facts.backup}}' },
    });
  });

  it('takes a good tool file', () => {
    expect(parseToolFile(GOOD, 'tools/demo.yaml').params.service?.required).toBe(true);
  });

  it.each([
    ['a YAML syntax error', GOOD.replace('risk: change', 'risk: [change'), 5, ''],
    ['an unknown risk', GOOD.replace('risk: change', 'risk: scary'), 4, 'risk'],
    ['an unknown field', GOOD.replace('risk: change', 'risk: change\ncolour: red'), 1, ''],
    ['a parameter type that does not exist', GOOD.replace('type: string', 'type: text'), 8, 'params.service.type'],
    [
      'a bad pattern',
      GOOD.replace('required: true', 'required: true\n    pattern: "([a-z"'),
      11,
      'params.service.pattern',
    ],
    [
      'a placeholder that is not a parameter',
      GOOD.replace("name: '{{service}}' }", "name: '{{svc}}' }"),
      14,
      'execution.linux.operation.name',
    ],
    [
      'a method that cannot reach the place',
      GOOD.replace('method: ssh', 'method: winrm'),
      13,
      'execution.linux.method',
    ],
    [
      'a facts reference outside a rollback',
      GOOD.replace("name: '{{service}}' }", "name: '{{facts.x}}' }"),
      14,
      'execution.linux.operation.name',
    ],
  ])('refuses %s, naming the line and field', (_, text, line, field) => {
    const err = errorOf(text);
    expect(err.file).toBe('tools/demo.yaml');
    expect(err.line).toBe(line);
    expect(err.field).toBe(field);
    expect(err.message).toMatch(/^tools\/demo\.yaml:\d+: /);
  });

  it('refuses a value spliced into a script without quoting, and says how to quote it', () => {
    const text = GOOD.replace(
      "operation: { op: service, action: stop, name: '{{service}}' }",
      "operation: { op: script, script: 'systemctl stop {{service}}' }",
    );
    const err = errorOf(text);
    expect(err.field).toBe('execution.linux.operation.script');
    expect(err.reason).toContain('write {{service|sh}} so it is quoted');
    expect(() =>
      parseToolFile(text.replace('stop {{service}}', 'stop {{service|sh}}'), 'tools/demo.yaml'),
    ).not.toThrow();
  });

  it('refuses a folder where two files define one tool, or a rollback to a tool that does not exist', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'opsc-tools-'));
    writeFileSync(path.join(dir, 'a.yaml'), GOOD);
    writeFileSync(path.join(dir, 'b.yaml'), GOOD);
    await expect(loadCatalog([dir])).rejects.toThrow(/b\.yaml:1: name: demo-stop is already defined in .*a\.yaml/);
    const other = mkdtempSync(path.join(os.tmpdir(), 'opsc-tools-'));
    writeFileSync(path.join(other, 'a.yaml'), GOOD.replace('  tool: demo-stop', '  tool: demo-start'));
    await expect(loadCatalog([other])).rejects.toThrow(/a\.yaml:16: rollback\.tool: no tool named demo-start/);
    await expect(loadCatalog([path.join(dir, 'missing')])).rejects.toThrow(/cannot read the tool folder \(ENOENT\)/);
  });
});
