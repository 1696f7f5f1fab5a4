/*
 * Names the request uses that the inventory does not have, and the inventory's names closest to
 * them: by edit distance (a typo, "web-server-1" for "web-server-01") or by shared words ("CIS
 * server" for "CIS servers").
 */

/** Edit distance, giving up (returning `limit + 1`) once it must exceed `limit`. */
const distance = (a: string, b: string, limit: number): number => {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      row.push(v);
      best = Math.min(best, v);
    }
    if (best > limit) return limit + 1;
    prev = row;
  }
  return prev[b.length]!;
};

const words = (s: string) =>
  new Set(
    s
      .toLowerCase()
      .split(/[\s_.-]+/)
      .filter(Boolean),
  );

/** Up to `n` of `candidates` closest to `name`, closest first; none when nothing is close. */
export const closestNames = (name: string, candidates: readonly string[], n = 3): string[] => {
  const wanted = name.toLowerCase();
  const limit = Math.max(2, Math.floor(wanted.length / 3));
  const own = words(name);
  const scored: { name: string; score: number }[] = [];
  for (const candidate of new Set(candidates)) {
    const d = distance(wanted, candidate.toLowerCase(), limit);
    const theirs = words(candidate);
    const shared = [...own].filter((w) => theirs.has(w)).length;
    const overlap = shared / Math.max(own.size, theirs.size, 1);
    if (d <= limit) scored.push({ name: candidate, score: d });
    else if (overlap >= 0.5) scored.push({ name: candidate, score: limit + 1 + (1 - overlap) * 10 });
  }
  return scored
    .sort((a, b) => a.score - b.score || a.name.localeCompare(b.name))
    .slice(0, n)
    .map((s) => s.name);
};

/** "no group 'CIS server' in the inventory; did you mean 'CIS servers'?" */
export const unknownNameNote = (kind: 'group' | 'target', name: string, candidates: readonly string[]): string => {
  const close = closestNames(name, candidates);
  return `there is no ${kind} '${name}' in the inventory; ${
    close.length ? `did you mean ${close.map((c) => `'${c}'`).join(', ')}?` : `no ${kind} name is close to it`
  }`;
};

/**
 * Names that look like hosts after "on", "against" or "across" ("on web-server-1", "on host db7"):
 * a letter first, then a digit or a hyphenated part. Read on the masked request; tokens for
 * inventory names are not candidates.
 */
export const hostLikeNames = (masked: string): string[] => {
  const found = new Set<string>();
  for (const m of masked.matchAll(
    /\b(?:on|against|across|from|reboot|restart the server|shut\s?down|power off)\s+(?:the\s+)?(?:(?:host|server|target|machine|node|box|vm)\s+)?([A-Za-z][A-Za-z0-9]*(?:[-_][A-Za-z0-9]+)+|[A-Za-z]+[0-9][A-Za-z0-9]*)\b/gi,
  ))
    if (m[1] && !/^opscinvref\d+$/.test(m[1])) found.add(m[1]);
  return [...found];
};
