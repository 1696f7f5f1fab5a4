import type { JobProgress, JobStatus, Plan, PlanSummary, RiskLevel } from '@opsc/contracts';
export type { AuditEntry, TokenView } from '@opsc/contracts';

/** Who is signed in (`GET /api/auth/me`). */
export interface SessionUser {
  username: string;
  role: 'viewer' | 'operator' | 'approver' | 'admin';
  tenantId: string;
  tenant: string;
}

/** A row of `GET /api/users` (admins). */
export interface UserView {
  username: string;
  displayName: string;
  role: SessionUser['role'];
  disabled: boolean;
  createdAt: string;
  lockedUntil: string | null;
}

export interface JobLinks {
  self: string;
  events: string;
  /** `GET /api/jobs/:id/results`: the per-target results with their full output, a page at a time. */
  results: string;
  temporalUi: string | null;
}

/** A row of `GET /api/jobs`. */
export interface JobListItem {
  id: string;
  name: string;
  status: JobStatus;
  risk: RiskLevel;
  requestedBy: string;
  targetGroup: string | null;
  targets: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationSeconds: number | null;
  outcome: { status?: string; targets?: Record<string, number>; compensationFailures?: number } | null;
  approval: Record<string, unknown> | null;
}

/** One step on one target, with its full stored output. */
export interface StepResultView {
  stepId: string;
  target: { id: string; name: string };
  status: string | null;
  attempt: number | null;
  method: string | null;
  exitCode: number | null;
  signal: string | null;
  httpStatus: number | null;
  stdout: string | null;
  stderr: string | null;
  stdoutTruncated: boolean | null;
  stderrTruncated: boolean | null;
  stdoutBytes: number | null;
  stderrBytes: number | null;
  facts: Record<string, string> | null;
  error: { type: string; message: string } | null;
  startedAt: string | null;
  finishedAt: string | null;
}

/** A page of `GET /api/jobs/:id/results`; `next.after` asks for the following one. */
export interface StepResultPage {
  results: StepResultView[];
  next: { after: string } | null;
}

/** `GET /api/jobs/:id`. */
export interface JobDetail {
  id: string;
  name: string;
  status: JobStatus;
  planHash: string;
  risk: RiskLevel;
  requestedBy: string;
  targetGroup: string | null;
  request: string | null;
  summary: PlanSummary | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: { type: string; message: string } | null;
  approval: { status?: string; by?: string; at?: string; comment?: string | null } | null;
  events: { action: string; actor: string; at?: string; comment?: string }[];
  outcome: JobListItem['outcome'];
  plan: Plan;
  targets: { id: string; name: string }[];
  progress: JobProgress | null;
  progressError: string | null;
  links: JobLinks;
}

/** An output line as `GET /api/jobs/:id/events` streams it. */
export interface OutputLine {
  seq: number;
  stepId: string;
  target: string;
  targetId: string;
  attempt: number;
  stream: 'stdout' | 'stderr';
  at: string;
  line: string;
}
