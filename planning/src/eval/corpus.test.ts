import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_TOOLS_DIR, loadCatalog, type ToolCatalog } from '../catalog/index.js';
import { CATEGORIES, CorpusError, loadCorpus, parseCorpusFile, type EvalCase } from './corpus.js';
import { stratifiedSample } from './run-eval.js';

/** Tools another change adds to the catalog (issue 18); cases may expect them before they land. */
const PENDING_TOOLS = ['wait', 'system-reboot', 'system-shutdown'];

let corpus: EvalCase[];
let catalog: ToolCatalog;
beforeAll(async () => {
  [corpus, catalog] = await Promise.all([loadCorpus(), loadCatalog([BUILTIN_TOOLS_DIR])]);
});

const expectationsOf = (c: EvalCase) => c.anyOf ?? (c.expect ? [c.expect] : []);
const toolsNamed = (c: EvalCase) =>
  expectationsOf(c).flatMap((e) => [...(e.tools ?? []), ...(e.steps ?? []).map((s) => s.tool), ...(e.notTools ?? [])]);

describe('the evaluation corpus', () => {
  it('has at least 200 cases, every category with at least 8', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(200);
    for (const category of CATEGORIES)
      expect(corpus.filter((c) => c.category === category).length, category).toBeGreaterThanOrEqual(8);
  });

  it('expects every catalog tool in some case, and names no tool outside the catalog but the pending three', () => {
    const used = new Set(
      corpus.flatMap((c) =>
        expectationsOf(c).flatMap((e) => [...(e.tools ?? []), ...(e.steps ?? []).map((s) => s.tool)]),
      ),
    );
    const unused = catalog
      .all()
      .map((t) => t.name)
      .filter((name) => !used.has(name));
    expect(unused).toEqual([]);
    const unknown = corpus.flatMap((c) =>
      toolsNamed(c)
        .filter((t) => !catalog.get(t) && !PENDING_TOOLS.includes(t))
        .map((t) => `${c.id}: ${t}`),
    );
    expect(unknown).toEqual([]);
  });

  it('covers the seeds verbatim, every policy phrase and refusals', () => {
    const requests = corpus.map((c) => c.request);
    expect(requests).toContain(
      "Connect to 25 Windows systems in group 'CIS servers', check if stationcontroller.exe is running, stop the service, copy new file, restart service, verify startup, log results",
    );
    expect(requests).toContain(
      "Update nginx to latest version on all web servers in 'Production Web' group and restart service",
    );
    expect(requests).toContain("Stop 'dataprocessor' service on all servers in 'Data Processing' group");
    for (const phrase of [
      'one host at a time',
      'two hosts at a time',
      'serially',
      'in batches of 5',
      '10% at a time',
      'stop on the first failure',
      'roll back everything',
      'no rollback',
    ])
      expect(
        requests.some((r) => r.includes(phrase)),
        phrase,
      ).toBe(true);
  });
});

describe('loading the corpus', () => {
  const file = '/corpus/services.yaml';
  it('names the file, the case and the field of a bad case', () => {
    const text = `category: services\ncases:\n  - id: ok-case\n    request: restart nginx on web-server-01\n    expect: { status: ready }\n  - id: bad-case\n    request: stop it\n    expect: { status: ready, tools: [Service Stop] }\n`;
    expect(() => parseCorpusFile(text, file)).toThrow(CorpusError);
    expect(() => parseCorpusFile(text, file)).toThrow(/services\.yaml: case "bad-case": expect\.tools\.0: /);
  });

  it('refuses an unknown field, a missing expectation, both expect and anyOf, and a misfiled category', () => {
    const head = 'category: services\ncases:\n  - id: c1\n    request: restart nginx\n';
    expect(() => parseCorpusFile(`${head}    expect: { status: ready, tool: [ping] }\n`, file)).toThrow(
      /case "c1": expect: .*tool/,
    );
    expect(() => parseCorpusFile(head, file)).toThrow(/case "c1": expect: give exactly one of expect and anyOf/);
    expect(() =>
      parseCorpusFile(
        `${head}    expect: { status: ready }\n    anyOf: [{ status: ready }, { status: refused }]\n`,
        file,
      ),
    ).toThrow(/give exactly one/);
    expect(() => parseCorpusFile(`${head}    expect: { status: done }\n`, file)).toThrow(/case "c1": expect\.status/);
    expect(() => parseCorpusFile(`${head}    expect: { status: ready }\n`, '/corpus/power.yaml')).toThrow(
      /power\.yaml: category: "services" is in a file named power\.yaml/,
    );
    expect(() => parseCorpusFile('category: nonsense\ncases: []\n', file)).toThrow(/services\.yaml: category/);
  });

  it('refuses an id used twice across files', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'opsc-corpus-'));
    try {
      const body = (category: string) =>
        `category: ${category}\ncases:\n  - id: same-id\n    request: ping 10.0.0.5\n    expect: { status: ready }\n`;
      await writeFile(path.join(dir, 'services.yaml'), body('services'));
      await writeFile(path.join(dir, 'waits.yaml'), body('waits'));
      await expect(loadCorpus(dir)).rejects.toThrow(
        /waits\.yaml: case "same-id": id: the id is used in .*services\.yaml too/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a stratified sample', () => {
  it('takes n cases, every category at least once, the same ones for the same seed', () => {
    const a = stratifiedSample(corpus, 40);
    expect(a).toHaveLength(40);
    expect(new Set(a.map((c) => c.category)).size).toBe(CATEGORIES.length);
    expect(stratifiedSample(corpus, 40).map((c) => c.id)).toEqual(a.map((c) => c.id));
    expect(stratifiedSample(corpus, 40, 7).map((c) => c.id)).not.toEqual(a.map((c) => c.id));
    const bigger = corpus.filter((c) => c.category === 'policies').length;
    const smaller = corpus.filter((c) => c.category === 'scripts').length;
    const n = (cat: string, s: EvalCase[]) => s.filter((c) => c.category === cat).length;
    expect(n('policies', stratifiedSample(corpus, 120))).toBeGreaterThanOrEqual(
      n('scripts', stratifiedSample(corpus, 120)),
    );
    expect(bigger).toBeGreaterThan(smaller);
    expect(stratifiedSample(corpus, 10_000)).toHaveLength(corpus.length);
  });
});
