import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findProgram, findSandboxUser, serviceRuleText, type SandboxSettings } from '@opsc/activities/execution';
import { parseEgressRule } from '@opsc/contracts';
import type { ExecutorEnv } from './env.js';

/** The repository's state folder (`npm run up`: embedded PostgreSQL, role passwords, the vault key). */
const REPO_DATA_DIR = fileURLToPath(new URL('../../.data/', import.meta.url));

/**
 * How local commands are boxed. As root, the executor starts bubblewrap as the dedicated sandbox
 * user (never as root: a root-owned key stays readable to uid 0 even in a user namespace); not as
 * root, it cannot switch users and the sandbox runs as its own user, its home hidden too.
 */
export const sandboxSettings = (env: ExecutorEnv): SandboxSettings => {
  const root = process.getuid?.() === 0;
  const user = root ? findSandboxUser(env.EXECUTOR_SANDBOX_USER) : null;
  const unusable = !root
    ? undefined
    : !user
      ? `the sandbox user ${env.EXECUTOR_SANDBOX_USER} does not exist (scripts/setup.sh creates it, or set EXECUTOR_SANDBOX_USER)`
      : user.uid === 0 || user.gid === 0
        ? `the sandbox user ${env.EXECUTOR_SANDBOX_USER} is root`
        : undefined;
  const keyFile = env.OPSC_VAULT_KEY_FILE ? path.resolve(env.OPSC_VAULT_KEY_FILE) : undefined;
  // The Temporal client key too: printed by a command, it would let its reader in as this executor.
  const tlsKey = env.TEMPORAL_TLS_KEY_FILE ? path.resolve(env.TEMPORAL_TLS_KEY_FILE) : undefined;
  return {
    bwrap: findProgram('bwrap', env.EXECUTOR_LOCAL_PATH),
    user,
    ...(unusable && { unusable }),
    path: env.EXECUTOR_LOCAL_PATH,
    hidden: [
      env.EXECUTOR_ARTIFACT_DIR,
      REPO_DATA_DIR,
      ...(keyFile ? [keyFile, path.dirname(keyFile)] : []),
      ...(tlsKey ? [tlsKey, path.dirname(tlsKey)] : []),
      ...(root ? [] : [os.homedir()]),
      ...env.EXECUTOR_SANDBOX_HIDE,
    ],
  };
};

/**
 * The platform's own services as deny-rule texts: Temporal, PostgreSQL (from DATABASE_URL), this
 * executor's health port, and EXECUTOR_EGRESS_DENY. An address the policy cannot read is left out.
 */
export const platformRuleTexts = (env: ExecutorEnv): string[] => {
  const texts = [
    ...env.EXECUTOR_EGRESS_DENY,
    env.TEMPORAL_ADDRESS,
    serviceRuleText(env.EXECUTOR_HEALTH_HOST, env.EXECUTOR_HEALTH_PORT),
  ];
  try {
    const db = new URL(env.DATABASE_URL);
    if (db.hostname) texts.push(serviceRuleText(db.hostname, Number(db.port || 5432)));
  } catch {
    // A URL pg reads but WHATWG does not: its host is not known here.
  }
  return texts.filter((t) => 'rule' in parseEgressRule(t));
};
