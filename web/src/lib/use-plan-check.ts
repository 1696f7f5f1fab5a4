'use client';
import { useEffect, useRef, useState } from 'react';
import type { PlanDraft } from '@opsc/contracts';
import type { MissingInput, PlanProposal, PlanValidation } from '@opsc/contracts/api';
import { api } from './api';
import type { Edited } from './draft-edits';
import { issuesByPath, reindexIssues } from './plan-issues';

/** What the validator answers for an edited plan (`POST /api/plans { plan }`), or the planner for a request. */
export type Validation = Omit<PlanValidation, 'status'> & { status: PlanProposal['status'] };

/** Quiet time after the last keystroke before the plan is checked again. */
export const CHECK_DELAY_MS = 400;

const questions = (missing: readonly MissingInput[]) => new Map(missing.map((m) => [m.path, m.question]));

/**
 * A plan under edit, checked by the API after every edit (debounced): the draft, the last answer,
 * its issues by path and questions, and whether a check is under way. Only the answer for the
 * latest edit counts; an earlier one arriving late is dropped.
 */
export const usePlanCheck = (proposal: PlanProposal) => {
  const [draft, setDraft] = useState<PlanDraft | null>(proposal.draft);
  const [v, setV] = useState<Validation>(proposal);
  const [issues, setIssues] = useState(() => issuesByPath(proposal.issues));
  const [missing, setMissing] = useState(() => questions(proposal.missing));
  const [checking, setChecking] = useState(false);
  const [edited, setEdited] = useState(false);
  /** A failure that is not about fields (the API cannot be reached, a conflict): shown as is. */
  const [failure, setFailure] = useState('');
  /** Whether running needs an approval, as the last ready answer said: the button keeps its name while the plan is fixed. */
  const [approval, setApproval] = useState(proposal.summary?.approvalRequired ?? false);
  const seq = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);

  const check = async (next: PlanDraft, n: number) => {
    const res = await api<Validation>('/plans', { body: { plan: next } });
    if (n !== seq.current) return;
    setChecking(false);
    if (res.ok) {
      setV(res.data);
      setIssues(issuesByPath(res.data.issues));
      setMissing(questions(res.data.missing));
      if (res.data.summary) setApproval(res.data.summary.approvalRequired);
      setFailure('');
      return;
    }
    setV((old) => ({ ...old, status: 'invalid', plan: null, planHash: null, summary: null, missing: [] }));
    setIssues(issuesByPath(res.error.issues));
    setMissing(new Map());
    setFailure(res.error.type === 'PlanInvalid' ? '' : res.error.message);
  };

  const edit = ({ draft: next, order }: Edited) => {
    setDraft(next);
    setEdited(true);
    if (order) {
      setIssues((old) => reindexIssues(old, order));
      setMissing((old) => reindexIssues(old, order));
    }
    seq.current += 1;
    const n = seq.current;
    setChecking(true);
    setFailure('');
    clearTimeout(timer.current);
    timer.current = setTimeout(() => void check(next, n), CHECK_DELAY_MS);
  };

  /** A submission the API refused: its issues go on their fields like a check's. */
  const refused = (message: string, fieldIssues: Parameters<typeof issuesByPath>[0]) => {
    setIssues(issuesByPath(fieldIssues));
    setFailure(message);
  };

  return { draft, v, issues, missing, checking, edited, failure, approval, edit, refused };
};
