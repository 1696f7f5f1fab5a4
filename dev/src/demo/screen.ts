import path from 'node:path';
import type { PlacedArtifact } from './artifact.js';
import type { DemoFleets } from './fleets.js';
import { DEMO_TENANT, DENY_COPY, LINUX_HOSTS, SEED_REQUESTS, WINDOWS_HOSTS, type DemoHost } from './seed-shape.js';
import type { DemoUser } from './users.js';

export interface ScreenFacts {
  webUrl: string;
  temporalUi: string | undefined;
  usersFile: string;
  users: DemoUser[];
  fleets: DemoFleets;
  artifact: PlacedArtifact;
}

const shown = (file: string) => {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') ? file : relative;
};
const names = (hosts: DemoHost[]) => hosts.map((h) => h.name).join(', ');
const addresses = (list: { address: string }[]) => `${list[0]?.address}-${list.at(-1)?.address.split('.').at(-1)}`;

/** The one screen `npm run demo` ends with: where to go, who to be, what to type. No secret on it. */
export const demoScreen = (facts: ScreenFacts): string[] => {
  const { fleets, artifact } = facts;
  const [admin, approver] = facts.users;
  return [
    '─'.repeat(100),
    `Web app      ${facts.webUrl}   (tenant ${DEMO_TENANT})`,
    ...(facts.temporalUi ? [`Temporal UI  ${facts.temporalUi}`] : []),
    `Users        ${admin?.username} (admin) asks; ${approver?.username} (approver) approves, in another browser or a private window.`,
    `             Their passwords: ${shown(facts.usersFile)} (mode 0600). Four-eyes is on: nobody approves their own change.`,
    `Linux        ${names(LINUX_HOSTS)} on ${addresses(fleets.linux)} (real sshd, fleet pid ${fleets.pids[0]})`,
    `Windows      ${names(WINDOWS_HOSTS)} on ${addresses(fleets.windows)} (simulated, fleet pid ${fleets.pids[1]});`,
    `             their services and files: ${shown(fleets.windowsStateFile)}`,
    `Artifact     ${artifact.source} (${Math.round(artifact.bytes / 1024)} KiB, sha256 ${artifact.sha256.slice(0, 16)}…)`,
    'Type in the chat (Chat page), then approve on Approvals as the other user:',
    ...SEED_REQUESTS.flatMap((seed, i) => [
      `  ${i + 1}. ${seed.request}`,
      ...(seed.fill
        ? [`     The plan ${seed.fill}; ${DENY_COPY.join(' and ')} deny the copy and are rolled back.`]
        : []),
    ]),
    '─'.repeat(100),
  ];
};
