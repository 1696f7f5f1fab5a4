import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@opsc/dev';

/** A production source file longer than this holds more than one idea: split it by concern. */
const MAX_LINES = 400;
/** The job workflow's phase machine; its parts live beside it (records queue, fan-out, compensation, ETA). */
const PHASE_MACHINE = 'workflows/src/run-job.ts';
const PHASE_MACHINE_MAX_LINES = 350;

/** Tracked TypeScript under the workspaces' sources, without tests: what ships. */
const productionSources = (): string[] =>
  execFileSync('git', ['ls-files', '*.ts', '*.tsx'], { cwd: REPO_ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f !== '' && /^[a-z-]+\/src\//.test(f) && !/\.test\.tsx?$/.test(f) && !f.startsWith('tests/'));

const linesOf = (file: string): number => readFileSync(path.join(REPO_ROOT, file), 'utf8').split('\n').length - 1;

describe('production source files', () => {
  it(`stay under ${MAX_LINES} lines`, () => {
    const sources = productionSources();
    expect(sources.length).toBeGreaterThan(100);
    const long = sources.map((f) => ({ file: f, lines: linesOf(f) })).filter((f) => f.lines > MAX_LINES);
    expect(long).toEqual([]);
  });

  it(`keep the job workflow's phase machine under ${PHASE_MACHINE_MAX_LINES} lines`, () => {
    expect(linesOf(PHASE_MACHINE)).toBeLessThan(PHASE_MACHINE_MAX_LINES);
  });
});
