import { z } from 'zod';
import { InventoryName, OsFamily, TargetService } from '../inventory.js';
import { Timestamp } from './common.js';

// Requests (targets, groups and selectors take `TargetInput`, `GroupInput` and `TargetSelector`).

/** `POST /api/inventory/import`: an Ansible inventory file. */
export const ImportBody = z.strictObject({
  format: z.enum(['ini', 'yaml']),
  content: z.string().min(1).max(900_000),
  /** Report what would change without writing; the default, so an import is always looked at first. */
  dryRun: z.boolean().default(true),
  defaultCredentials: z.strictObject({ ssh: InventoryName.optional(), winrm: InventoryName.optional() }).optional(),
});
export type ImportBody = z.infer<typeof ImportBody>;

// Answers.

const withCredentialId = { credentialId: z.string().nullable() };
const [ssh, winrm, http, postgresql] = TargetService.options;
/** A service of a target as answers show it: with its credential's id. */
export const ServiceView = z.discriminatedUnion('protocol', [
  ssh.extend(withCredentialId),
  winrm.extend(withCredentialId),
  http.extend(withCredentialId),
  postgresql.extend(withCredentialId),
]);

/** A concrete target: services with credential ids, never secrets. */
export const ResolvedTarget = z.object({
  id: z.string(),
  name: z.string(),
  address: z.string(),
  os: OsFamily,
  tags: z.array(z.string()),
  services: z.array(ServiceView),
  /** The target's own executor pool, when it names one. */
  pool: z.string().optional(),
  /** The pool that runs its actions: its own, else its groups', else `executor` (absent: `executor`). */
  executorPool: z.string().optional(),
  /** Its groups name these different pools and it names none: no step may run on it until it does. */
  poolConflict: z.array(z.string()).optional(),
});
export type ResolvedTarget = z.infer<typeof ResolvedTarget>;

export const TargetList = z.object({ targets: z.array(ResolvedTarget) });
export type TargetList = z.infer<typeof TargetList>;
/** A target created or replaced. */
export const TargetAnswer = z.object({ target: ResolvedTarget });
export type TargetAnswer = z.infer<typeof TargetAnswer>;

/** The SSH host key the executor pinned for a target. */
export const HostKeyAnswer = z.object({
  hostKey: z.object({ algorithm: z.string(), fingerprint: z.string(), source: z.string(), pinnedAt: Timestamp }),
});
export type HostKeyAnswer = z.infer<typeof HostKeyAnswer>;

export const GroupView = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  targets: z.array(z.string()),
  children: z.array(z.string()),
  pool: z.string().optional(),
});
export type GroupView = z.infer<typeof GroupView>;
export const GroupList = z.object({ groups: z.array(GroupView) });
export type GroupList = z.infer<typeof GroupList>;
/** A group created or replaced. */
export const GroupAnswer = z.object({ group: GroupView });
export type GroupAnswer = z.infer<typeof GroupAnswer>;

const Changes = z.object({
  create: z.array(z.string()),
  update: z.array(z.object({ name: z.string(), fields: z.array(z.string()) })),
  unchanged: z.number().int(),
});
/** What an import changes (or would, on a dry run). */
export const ImportDiff = z.object({ targets: Changes, groups: Changes });
export type ImportDiff = z.infer<typeof ImportDiff>;
export const ImportAnswer = z.object({
  dryRun: z.boolean(),
  applied: z.boolean(),
  diff: ImportDiff,
  /** Things in the file that were not imported. */
  notes: z.array(z.string()),
});
export type ImportAnswer = z.infer<typeof ImportAnswer>;

/** `POST /api/inventory/resolve`: the targets a selector names. */
export const ResolveAnswer = z.object({
  count: z.number().int(),
  byOs: z.object({ linux: z.number().int(), windows: z.number().int() }),
  targets: z.array(ResolvedTarget),
});
export type ResolveAnswer = z.infer<typeof ResolveAnswer>;
