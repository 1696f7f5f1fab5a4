import type pg from 'pg';
import { recordAudit } from '../audit.js';
import { beginAttempt, clearFailures, pruneFailures, type LockoutPolicy } from './account-lockout.js';
import { HashGate } from './hash-gate.js';
import type { Principal } from './roles.js';
import { verifyPasswordOrNothing } from './secrets.js';
import { findSignInAccount } from './users.js';
import { SourceLimiter, sourceKey } from './source-limiter.js';

export interface SignInPolicy {
  lockout: LockoutPolicy;
  source: { maxFailures: number; windowSeconds: number };
  maxConcurrentHashes: number;
}

export interface SignInRequest {
  tenant: string;
  username: string;
  password: string;
  sourceIp: string | undefined;
}

/** Why a sign-in was not even tried: the source's budget is spent, hashing is at capacity, or the name is locked. */
export type Refusal = 'source' | 'busy' | 'locked';

export type SignInOutcome =
  | { ok: true; principal: Omit<Principal, 'via'> }
  | { ok: false; refused: Refusal; retryAfterSeconds: number }
  | { ok: false; refused?: undefined };

const PRUNE_EVERY_MS = 60_000;

/**
 * Password sign-in behind three limits, checked cheapest first: a source's budget of failures
 * (per process), a bound on hashes at once (per process), and the named account's lockout (in
 * PostgreSQL, so every orchestrator honours it). Failed and refused attempts are audited to the
 * tenant they name; the password never leaves this function.
 */
export const createSignIn = (pool: pg.Pool, policy: SignInPolicy) => {
  const sources = new SourceLimiter(policy.source);
  const gate = new HashGate(policy.maxConcurrentHashes);
  let prunedAt = 0;

  return async ({ tenant, username, password, sourceIp }: SignInRequest): Promise<SignInOutcome> => {
    const source = sourceKey(sourceIp);
    const budget = sources.take(source);
    if (!budget.ok) return { ok: false, refused: 'source', retryAfterSeconds: budget.retryAfterSeconds };
    const leave = gate.tryEnter(source);
    if (!leave) {
      sources.refund(source);
      return { ok: false, refused: 'busy', retryAfterSeconds: 1 };
    }
    try {
      if (Date.now() - prunedAt > PRUNE_EVERY_MS) {
        prunedAt = Date.now();
        await pruneFailures(pool);
      }
      const attempt = await beginAttempt(pool, tenant, username, policy.lockout);
      const account = await findSignInAccount(pool, tenant, username);
      const audit = (action: string, details: Record<string, unknown>) =>
        recordAudit(pool, {
          tenantId: account.tenantId,
          actor: username,
          action,
          objectType: 'user',
          objectId: username,
          ...(sourceIp && { sourceIp }),
          details,
        });
      if (attempt.locked) {
        await audit('auth.login_locked', { retryAfterSeconds: attempt.retryAfterSeconds });
        return { ok: false, refused: 'locked', retryAfterSeconds: attempt.retryAfterSeconds };
      }
      const user = account.user;
      const matches = await verifyPasswordOrNothing(password, user?.passwordHash ?? null);
      if (user && matches && !user.disabled) {
        await clearFailures(pool, tenant, username);
        sources.refund(source);
        const { passwordHash: _hash, disabled: _disabled, ...principal } = user;
        return { ok: true, principal };
      }
      const reason = !account.tenantId
        ? 'no such tenant'
        : !user
          ? 'no such user'
          : user.disabled
            ? 'disabled'
            : !user.passwordHash
              ? 'no password set'
              : 'wrong password';
      await audit('auth.login_failed', {
        reason,
        failures: attempt.failures,
        ...(attempt.lockedForSeconds !== null && { lockedForSeconds: attempt.lockedForSeconds }),
      });
      return { ok: false };
    } finally {
      leave();
    }
  };
};
