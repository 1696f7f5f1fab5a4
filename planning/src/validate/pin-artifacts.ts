import type { FieldIssue, Step } from '@opsc/contracts';

/**
 * The tenant's artifact store as the validator sees it: the version with that SHA-256 under the name,
 * or, with none given, the newest upload under it; null when there is none.
 */
export type ArtifactLookup = (name: string, sha256?: string) => Promise<{ sha256: string } | null>;

const copyIn = (step: Step): { source: string; sha256?: string | undefined } | undefined => {
  const action = step.action;
  if (action.method !== 'ssh' && action.method !== 'winrm') return undefined;
  return action.operation.op === 'file-copy' ? action.operation : undefined;
};

/**
 * Pins the artifact every file-copy among the steps sends: the SHA-256 it names must be an upload
 * under its name, and one that names none gets the newest upload's. The plan hash covers it, so an
 * approval is of these bytes: a later upload under the same name changes no approved job's copy.
 * `where` names the fields of a step's source and SHA-256 for the issues.
 */
export const pinArtifacts = async (
  steps: Step[],
  lookup: ArtifactLookup,
  where: (index: number) => { source: string; sha256: string },
): Promise<{ issues: FieldIssue[]; pinned: (string | undefined)[] }> => {
  const issues: FieldIssue[] = [];
  const pinned: (string | undefined)[] = [];
  for (const [index, step] of steps.entries()) {
    const copy = copyIn(step);
    if (!copy) {
      pinned.push(undefined);
      continue;
    }
    const found = await lookup(copy.source, copy.sha256);
    if (!found) {
      const path = copy.sha256 ? where(index).sha256 : where(index).source;
      const message = copy.sha256
        ? `no upload of artifact ${copy.source} has SHA-256 ${copy.sha256}`
        : `no artifact named ${copy.source} is uploaded: upload it first (the Artifacts page, or POST /api/artifacts)`;
      if (!issues.some((i) => i.path === path)) issues.push({ path, message });
      pinned.push(undefined);
      continue;
    }
    copy.sha256 = found.sha256;
    // Its check (check mode) compares the destination with these same bytes.
    const check = step.check?.kind === 'probe' ? step.check.action : undefined;
    if (check && (check.method === 'ssh' || check.method === 'winrm') && check.operation.op === 'file-check')
      check.operation.sha256 = found.sha256;
    if (step.tool && 'source' in step.tool.params) step.tool.params = { ...step.tool.params, sha256: found.sha256 };
    pinned.push(found.sha256);
  }
  return { issues, pinned };
};
