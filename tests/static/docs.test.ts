import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@opsc/dev';

/** The README must stay a first page: what it is, two commands, a first job, the picture, links. */
const README_MAX_BYTES = 10_000;

const markdownUnder = (dir: string): string[] =>
  readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.posix.join(dir, e.name);
    if (e.isDirectory()) return markdownUnder(rel);
    return e.name.endsWith('.md') ? [rel] : [];
  });

/** Link targets of a page, outside code blocks and code spans. */
const linksOf = (file: string): string[] => {
  const text = readFileSync(path.join(REPO_ROOT, file), 'utf8')
    .replace(/^```[\s\S]*?^```/gm, '')
    .replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
};

const isRelative = (href: string) => !/^[a-z][a-z0-9+.-]*:/i.test(href) && !href.startsWith('#');

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
const anchorsOf = (file: string): Set<string> => {
  const text = readFileSync(path.join(REPO_ROOT, file), 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  const anchors = new Set<string>();
  for (const [, heading] of text.matchAll(/^#{1,6} (.+)$/gm)) {
    anchors.add(
      heading!
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    );
  }
  return anchors;
};

const pages = ['README.md', ...markdownUnder('docs')];

describe('the docs', () => {
  it(`keep README.md under ${README_MAX_BYTES} bytes`, () => {
    expect(statSync(path.join(REPO_ROOT, 'README.md')).size).toBeLessThan(README_MAX_BYTES);
  });

  it('have no broken relative link (files and heading anchors)', () => {
    const broken: string[] = [];
    for (const page of pages) {
      for (const href of linksOf(page).filter(isRelative)) {
        const [target = '', anchor] = href.split('#');
        const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(page), decodeURI(target)));
        if (!existsSync(path.join(REPO_ROOT, resolved))) broken.push(`${page}: ${href} (no such file)`);
        else if (anchor && resolved.endsWith('.md') && !anchorsOf(resolved).has(anchor))
          broken.push(`${page}: ${href} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('reach every page under docs/ from README.md, directly or through docs/README.md', () => {
    const seen = new Set<string>(['README.md']);
    const queue = ['README.md'];
    while (queue.length > 0) {
      const page = queue.shift()!;
      for (const href of linksOf(page).filter(isRelative)) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(page), decodeURI(href.split('#')[0]!)));
        if (target.endsWith('.md') && !seen.has(target) && existsSync(path.join(REPO_ROOT, target))) {
          seen.add(target);
          queue.push(target);
        }
      }
    }
    expect(pages.length).toBeGreaterThan(10);
    expect(pages.filter((p) => !seen.has(p))).toEqual([]);
  });
});
