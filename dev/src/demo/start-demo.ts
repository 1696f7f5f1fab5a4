import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { uploadSampleArtifact } from './artifact.js';
import { startDemoFleets, type DemoFleets } from './fleets.js';
import { registerInventory } from './inventory.js';
import { demoScreen } from './screen.js';
import { ensureDemoUsers } from './users.js';

export interface DemoOptions {
  /** The orchestrator API's origin, e.g. http://127.0.0.1:3005. */
  apiUrl: string;
  webUrl: string;
  temporalUi: string | undefined;
  /** The orchestrator role's database URL, for the CLI that makes the first admin. */
  orchestratorDatabaseUrl: string;
  /** Where the demo keeps its files (`.data/demo`). */
  dir: string;
  say: (line: string) => void;
}

export interface Demo {
  /** Fleets, users, inventory, artifact, then the screen; the same again on a second run. */
  start(): Promise<void>;
  /** Stops the fleets by PID; safe at any time, also while `start` runs. */
  stop(): Promise<void>;
}

/** What the SSH fleet needs of the machine, said before anything starts. */
const checkMachine = (): void => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0)
    throw new Error('the demo runs its SSH fleet as root on Linux (sshd in namespaces, one user per host)');
  for (const [binary, pkg] of [
    ['/usr/sbin/sshd', 'openssh-server'],
    ['/usr/bin/sudo', 'sudo'],
    ['/usr/bin/openssl', 'openssl'],
  ] as const)
    if (!existsSync(binary)) throw new Error(`the demo's fleets need ${pkg}: run \`npm run demo\`, which installs it`);
};

export const createDemo = (options: DemoOptions): Demo => {
  let stopFleets: (() => Promise<void>) | undefined;
  let stopped = false;
  return {
    start: async () => {
      const started = Date.now();
      checkMachine();
      mkdirSync(options.dir, { recursive: true, mode: 0o700 });
      options.say('starting the demo fleets (SSH and WinRM, shaped like the seeds)');
      const fleets: DemoFleets = await startDemoFleets(options.dir, options.say, (stop) => {
        stopFleets = stop;
      });
      if (stopped) return;
      options.say(`fleets up: ${fleets.linux.length} Linux hosts, ${fleets.windows.length} Windows hosts`);
      const usersFile = path.join(options.dir, 'users.json');
      const { admin, users } = await ensureDemoUsers({ ...options, file: usersFile });
      await registerInventory(admin, fleets);
      options.say('inventory registered: groups CIS servers, Production Web, Data Processing');
      const artifact = await uploadSampleArtifact(admin);
      await admin.signOut();
      for (const line of demoScreen({ ...options, usersFile, users, fleets, artifact })) options.say(line);
      options.say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    },
    stop: async () => {
      stopped = true;
      await stopFleets?.();
    },
  };
};
