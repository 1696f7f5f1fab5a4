import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ORCHESTRATOR_CLI } from '../paths.js';
import { apiError, signIn, type ApiSession } from './api-session.js';
import { DEMO_TENANT, DEMO_USERS } from './seed-shape.js';

export interface DemoUser {
  username: string;
  role: string;
  password: string;
}

/**
 * The demo users' passwords: made once, kept in `file` (mode 0600) and reused by every later run.
 * They are written before any user exists, so a run that stops half-way leaves nothing unknown.
 */
const loadOrCreatePasswords = (file: string): DemoUser[] => {
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { users?: DemoUser[] };
    const users = DEMO_USERS.map((u) => saved.users?.find((s) => s.username === u.username));
    if (users.every((u): u is DemoUser => typeof u?.password === 'string' && u.password.length >= 12)) return users;
  }
  const users = DEMO_USERS.map((u) => ({ ...u, password: randomBytes(18).toString('base64url') }));
  writeFileSync(file, `${JSON.stringify({ tenant: DEMO_TENANT, users }, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return users;
};

const takenAdvice = (username: string, file: string) =>
  `${username} exists in tenant ${DEMO_TENANT} with a password other than the one in ${file}; ` +
  `delete the user (npm run users -- delete --tenant ${DEMO_TENANT} --username ${username}) and run the demo again`;

/**
 * The first admin, the way an operator makes one: the orchestrator's own CLI (`create-admin`,
 * which validates, hashes and audits), given the orchestrator role's database URL. The API token it
 * prints is not kept (one day long, it just expires); the demo signs in with the password.
 */
const createAdmin = (user: DemoUser, databaseUrl: string, file: string): void => {
  const result = spawnSync(
    process.execPath,
    [
      ORCHESTRATOR_CLI,
      'create-admin',
      ...['--tenant', DEMO_TENANT, '--username', user.username, '--password-stdin', '--token-days', '1'],
    ],
    { input: user.password, encoding: 'utf8', env: { ...process.env, DATABASE_URL: databaseUrl } },
  );
  if (result.status === 0) return;
  if (/is taken/.test(result.stderr)) throw new Error(takenAdvice(user.username, file));
  throw new Error(`create-admin failed (${result.status ?? result.signal}): ${result.stderr.trim()}`);
};

/**
 * The demo's two users, both able to sign in when this returns: an admin (made with the CLI when
 * missing) and a second person with the approver role (made by that admin through `POST
 * /api/users`), because four-eyes is on by default and nobody approves their own change.
 */
export const ensureDemoUsers = async (options: {
  apiUrl: string;
  orchestratorDatabaseUrl: string;
  file: string;
  say: (line: string) => void;
}): Promise<{ admin: ApiSession; users: DemoUser[] }> => {
  const [admin, approver] = loadOrCreatePasswords(options.file) as [DemoUser, DemoUser];
  let session = await signIn(options.apiUrl, DEMO_TENANT, admin.username, admin.password);
  if (!session) {
    createAdmin(admin, options.orchestratorDatabaseUrl, options.file);
    options.say(`created ${admin.username} (admin) in tenant ${DEMO_TENANT}`);
    session = await signIn(options.apiUrl, DEMO_TENANT, admin.username, admin.password);
    if (!session) throw new Error(`${admin.username} was created but cannot sign in`);
  }
  const created = await session.request('POST', '/api/users', {
    username: approver.username,
    role: approver.role,
    password: approver.password,
  });
  if (created.status === 201) options.say(`created ${approver.username} (approver) in tenant ${DEMO_TENANT}`);
  else if (created.status !== 409) throw new Error(`creating ${approver.username}: ${apiError(created)}`);
  const check = await signIn(options.apiUrl, DEMO_TENANT, approver.username, approver.password);
  if (!check) throw new Error(takenAdvice(approver.username, options.file));
  await check.signOut();
  return { admin: session, users: [admin, approver] };
};
