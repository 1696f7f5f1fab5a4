import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ESLint } from 'eslint';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@opsc/dev';

interface Arrow {
  name: string;
  files: string[];
  forbidden: { pattern: string; why: string }[];
  allowOnly?: { pattern: string; why: string };
}
// The arrows of DESIGN.md as data, shared with eslint.config.js (plain JS at the repository root).
const { ARROWS: arrows } = (await import(pathToFileURL(path.join(REPO_ROOT, 'architecture.js')).href)) as {
  ARROWS: Arrow[];
};

/** Build output and installed packages are not source. */
const NOT_SOURCE = new Set(['node_modules', 'dist', '.next']);
const sourceFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return NOT_SOURCE.has(entry) ? [] : sourceFiles(full);
    return /\.tsx?$/.test(full) && !/\.test\.tsx?$/.test(full) && !full.endsWith('.d.ts') ? [full] : [];
  });

const importsOf = (file: string): string[] =>
  ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((f) => f.fileName);

/** The folder an arrow governs, from its `x/src/**\/*.ts` (or `.tsx`) glob. */
const folderOf = (glob: string) => glob.replace(/\/\*\*\/\*\.tsx?$/, '');

const violations = (arrow: Arrow, specifier: string): string[] => [
  ...arrow.forbidden.filter((rule) => new RegExp(rule.pattern).test(specifier)).map((rule) => rule.why),
  ...(arrow.allowOnly && new RegExp(arrow.allowOnly.pattern).test(specifier) ? [arrow.allowOnly.why] : []),
];

describe('the arrows of DESIGN.md', () => {
  it('hold for every import in the source tree', () => {
    const found: string[] = [];
    const checked = new Set<string>();
    for (const arrow of arrows) {
      for (const glob of arrow.files) {
        for (const file of sourceFiles(path.join(REPO_ROOT, folderOf(glob)))) {
          checked.add(path.relative(REPO_ROOT, file));
          for (const specifier of importsOf(file)) {
            for (const why of violations(arrow, specifier))
              found.push(`${path.relative(REPO_ROOT, file)} imports ${specifier}: ${why}`);
          }
        }
      }
    }
    expect(found).toEqual([]);
    // The walk reaches every box: the planner, the execution activities, the orchestrator's bookkeeping.
    for (const folder of [
      'planning/src/',
      'activities/src/execution/',
      'orchestrator/src/bookkeeping/',
      'executor-worker/src/',
      'contracts/src/',
    ]) {
      expect([...checked].filter((f) => f.startsWith(folder)).length, folder).toBeGreaterThan(2);
    }
    // The walk reaches the web app's pages and components, not only .ts files.
    expect([...checked].filter((f) => f.startsWith('web/src/') && f.endsWith('.tsx')).length).toBeGreaterThan(5);
  });

  // Proves the lint rule is live: a wrong import placed in each box fails ESLint.
  // Type-aware parsing needs files in a tsconfig; these virtual files are not, and the import
  // rules need no types.
  const eslint = new ESLint({
    cwd: REPO_ROOT,
    overrideConfig: {
      languageOptions: { parserOptions: { projectService: false, project: null } },
      rules: { '@typescript-eslint/no-floating-promises': 'off' },
    },
  });
  const wrongImports: [string, string][] = [
    ['workflows/src/x.ts', "import { Client } from '@temporalio/client';"],
    ['workflows/src/x.ts', "import { readFile } from 'node:fs';"],
    ['orchestrator/src/x.ts', "import { spawn } from 'node:child_process';"],
    ['orchestrator/src/x.ts', "import { Client } from 'ssh2';"],
    ['orchestrator/src/x.ts', "import { createExecutionActivities } from '@opsc/activities/execution';"],
    ['orchestrator/src/x.ts', "import { openVault } from '../vault/index.js';"],
    ['orchestrator/src/x.ts', "import { openCredential } from '@opsc/activities/vault';"],
    ['planning/src/x.ts', "import { openCredential } from '@opsc/activities/vault';"],
    ['planning/src/x.ts', "import { runProcess } from '@opsc/activities/execution';"],
    ['planning/src/x.ts', "import { spawn } from 'node:child_process';"],
    ['planning/src/x.ts', "import { Context } from '@temporalio/activity';"],
    ['planning/src/x.ts', "import pg from 'pg';"],
    ['activities/src/execution/x.ts', "import { validatePlan } from '@opsc/planning';"],
    ['activities/src/x.ts', "import { createApp } from '@opsc/orchestrator/app';"],
    ['orchestrator/src/bookkeeping/x.ts', "import { runProcess } from '@opsc/activities/execution';"],
    ['executor-worker/src/x.ts', "import { proposePlan } from '@opsc/planning';"],
    ['executor-worker/src/x.ts', "import { runJob } from '@opsc/workflows';"],
    ['contracts/src/x.ts', "import express from 'express';"],
    ['orchestrator/src/x.ts', "import { Plan } from '@opsc/contracts/src/plan.js';"],
    ['web/src/app/x.tsx', "import { Client } from '@temporalio/client';"],
    ['web/src/app/x.tsx', "import pg from 'pg';"],
    ['web/src/lib/x.ts', "import { createApp } from '@opsc/orchestrator/app';"],
    ['web/src/lib/x.ts', "import { readFile } from 'node:fs';"],
  ];
  it.each(wrongImports)('ESLint refuses, in %s: %s', async (file, code) => {
    const [result] = await eslint.lintText(
      `${code}\nexport const used = [${code
        .match(/\{ (\w+) \}|import (\w+)/)
        ?.slice(1)
        .find(Boolean)}];\n`,
      {
        filePath: path.join(REPO_ROOT, file),
      },
    );
    expect(result?.messages.map((m) => m.ruleId)).toContain('no-restricted-imports');
  });

  it('keeps SSH and WinRM libraries out of the orchestrator dependency tree', () => {
    const seen = new Set<string>();
    // Node's lookup: the nearest node_modules/<name> walking up from the dependent package.
    const locate = (name: string, fromDir: string): string | undefined => {
      for (let dir = fromDir; ; dir = path.dirname(dir)) {
        const candidate = path.join(dir, 'node_modules', name);
        if (existsSync(path.join(candidate, 'package.json'))) return realpathSync(candidate);
        if (dir === path.dirname(dir)) return undefined;
      }
    };
    const visit = (name: string, fromDir: string, optional: boolean) => {
      const dir = locate(name, fromDir);
      if (!dir) {
        if (optional) return;
        throw new Error(`${name} is not installed`);
      }
      if (seen.has(`${name}@${dir}`)) return;
      seen.add(`${name}@${dir}`);
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        dependencies?: Record<string, string>;
        optionalDependencies?: Record<string, string>;
      };
      for (const dep of Object.keys(manifest.dependencies ?? {})) visit(dep, dir, false);
      for (const dep of Object.keys(manifest.optionalDependencies ?? {})) visit(dep, dir, true);
    };
    visit('@opsc/orchestrator', REPO_ROOT, false);
    const names = new Set([...seen].map((entry) => entry.slice(0, entry.lastIndexOf('@'))));
    const forbidden = [...names].filter(
      (name) =>
        /^(ssh2|ssh2-sftp-client|node-ssh|nodemailer|.*winrm.*)$/.test(name) || name === '@opsc/executor-worker',
    );
    expect(seen.size).toBeGreaterThan(20);
    expect(forbidden).toEqual([]);
  });
});
