import { z } from 'zod';
import { Role, Timestamp } from './common.js';

/**
 * A name or label that is stored in PostgreSQL as text: `min` to `max` characters and no control
 * characters (PostgreSQL cannot store a NUL, and a line break in a name only ever misleads).
 */
export const PlainText = (max: number, min = 1) =>
  z
    .string()
    .min(min)
    .max(max)
    .regex(/^[^\p{Cc}]*$/u, { message: 'must not contain control characters' });

// Requests.

export const LoginBody = z.strictObject({
  tenant: PlainText(100),
  username: PlainText(100),
  password: z.string().min(1).max(1024),
});
export type LoginBody = z.infer<typeof LoginBody>;

/** The tenant's approval rules: four-eyes, and how long an approval may wait before the job is rejected. */
export const TenantSettings = z.strictObject({
  fourEyes: z.boolean(),
  approvalTimeoutSeconds: z.number().int().min(5).max(2_592_000),
});
export type TenantSettings = z.infer<typeof TenantSettings>;

const Password = z.string().min(12, { message: 'must be at least 12 characters' }).max(1024);

/**
 * A new user: with `password`, the initial password; with `generatePassword`, one the server makes and
 * answers once; with neither, a user who cannot sign in until an admin resets their password.
 */
export const NewUserBody = z
  .strictObject({
    username: z.string().regex(/^[a-z0-9][a-z0-9._@-]{0,99}$/, { message: 'lower-case letters, digits and . _ @ -' }),
    role: Role,
    displayName: PlainText(200, 0).optional(),
    password: Password.optional(),
    generatePassword: z.boolean().optional(),
  })
  .refine((u) => !(u.password !== undefined && u.generatePassword), {
    message: 'give a password or ask for a generated one, not both',
    path: ['generatePassword'],
  });
export type NewUserBody = z.infer<typeof NewUserBody>;

export const UserChangeBody = z
  .strictObject({ role: Role.optional(), disabled: z.boolean().optional() })
  .refine((c) => c.role !== undefined || c.disabled !== undefined, { message: 'give a role, disabled, or both' });
export type UserChangeBody = z.infer<typeof UserChangeBody>;

/** `POST /api/users/:username/password`: the new password, or none for one the server makes and answers once. */
export const PasswordResetBody = z.strictObject({ password: Password.optional() });
export type PasswordResetBody = z.infer<typeof PasswordResetBody>;

export const NewTokenBody = z.strictObject({
  name: PlainText(100),
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});
export type NewTokenBody = z.infer<typeof NewTokenBody>;

// Answers.

/** `POST /api/auth/login`: who signed in (the session is the cookie it sets). */
export const LoginAnswer = z.object({ user: z.object({ username: z.string(), role: Role, tenantId: z.string() }) });
export type LoginAnswer = z.infer<typeof LoginAnswer>;

/** Who is signed in, with the tenant's name for people. */
export const SessionUser = z.object({ username: z.string(), role: Role, tenantId: z.string(), tenant: z.string() });
export type SessionUser = z.infer<typeof SessionUser>;
/** `GET /api/auth/me`; `via` says whether the caller used a session or an API token. */
export const MeAnswer = z.object({ user: SessionUser, via: z.enum(['token', 'session']) });
export type MeAnswer = z.infer<typeof MeAnswer>;

/** A user of the tenant, as its admins see them. */
export const UserView = z.object({
  username: z.string(),
  displayName: z.string(),
  role: Role,
  disabled: z.boolean(),
  createdAt: Timestamp,
  /** While failed sign-ins lock the name. */
  lockedUntil: Timestamp.nullable(),
});
export type UserView = z.infer<typeof UserView>;
export const UserList = z.object({ users: z.array(UserView) });
export type UserList = z.infer<typeof UserList>;
export const UserCreated = z.object({
  user: z.object({ username: z.string(), role: Role }),
  /** The generated password, shown this once (never stored in clear, never logged). */
  generatedPassword: z.string().optional(),
});
export type UserCreated = z.infer<typeof UserCreated>;
export const UserAnswer = z.object({ user: UserView });
/** A password reset: the user's sessions ended; the generated password, when one was asked for, shown this once. */
export const PasswordResetAnswer = z.object({
  user: z.object({ username: z.string() }),
  sessionsEnded: z.number().int().min(0),
  generatedPassword: z.string().optional(),
});
export type PasswordResetAnswer = z.infer<typeof PasswordResetAnswer>;
export type UserAnswer = z.infer<typeof UserAnswer>;

/** An API token: never the secret, only its first characters. */
export const TokenView = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  createdAt: Timestamp,
  expiresAt: Timestamp,
  lastUsedAt: Timestamp.nullable(),
  revokedAt: Timestamp.nullable(),
});
export type TokenView = z.infer<typeof TokenView>;
export const TokenList = z.object({ tokens: z.array(TokenView) });
export type TokenList = z.infer<typeof TokenList>;
/** `POST /api/tokens` (201): the token itself, shown this once. */
export const TokenIssued = z.object({
  id: z.string(),
  token: z.string(),
  name: z.string(),
  prefix: z.string(),
  expiresAt: Timestamp,
  note: z.string(),
});
export type TokenIssued = z.infer<typeof TokenIssued>;

// The audit trail.

/** An action, or a prefix ending in `.` (`inventory.`). */
const AuditAction = z.string().regex(/^[a-z_.]{1,100}$/);
const AUDIT_CURSOR = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)_(\d{1,18})$/;
/** The parts of an audit page cursor: the last entry's time (to the microsecond) and its id; undefined for anything else. */
export const auditCursor = (value: string): { at: string; id: string } | undefined => {
  const [, at, id] = AUDIT_CURSOR.exec(value) ?? [];
  return at && id ? { at, id } : undefined;
};
/** A cursor PostgreSQL will take: a real time (no 30 February), from this era. */
const isAuditCursor = (value: string): boolean => {
  const at = auditCursor(value)?.at;
  if (!at) return false;
  const time = new Date(`${at.slice(0, 23)}Z`);
  return (
    !Number.isNaN(time.getTime()) &&
    time.getUTCFullYear() >= 1970 &&
    time.toISOString().slice(0, 19) === at.slice(0, 19)
  );
};

/** `GET /api/audit` filters. */
export const AuditQuery = z.strictObject({
  actor: z.string().max(100).optional(),
  action: AuditAction.optional(),
  objectType: z.string().max(50).optional(),
  objectId: z.string().max(200).optional(),
  jobId: z.string().max(100).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  /** Keyset paging: the `next` value of the previous page (the last entry's time to the microsecond, and its id). */
  before: z.string().refine(isAuditCursor, { message: 'must be the `next` value of the previous page' }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** An entry of the audit trail. */
export const AuditEntry = z.object({
  /** A bigint, as text. */
  id: z.string(),
  at: Timestamp,
  actor: z.string(),
  action: z.string(),
  objectType: z.string().nullable(),
  objectId: z.string().nullable(),
  jobId: z.string().nullable(),
  planHash: z.string().nullable(),
  sourceIp: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;
/** `GET /api/audit`, newest first; `next` asks for the following page. */
export const AuditPage = z.object({ entries: z.array(AuditEntry), next: z.string().nullable() });
export type AuditPage = z.infer<typeof AuditPage>;
