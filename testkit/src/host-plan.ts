import path from 'node:path';
import { hostDir, hostUser } from './paths.js';
import type { HostFile, ResolvedHostOptions } from './host-options.js';

/** Everything known about a host before it starts: names, addresses and where its files go. */
export interface HostPlan {
  index: number;
  /** Last octet of the address; names the user (`ofl<N>`) and the data directory (`h<N>`). */
  octet: number;
  name: string;
  address: string;
  port: number;
  user: string;
  home: string;
  dir: string;
  configFile: string;
  hostKeyFile: string;
  logFile: string;
  maxStartups: string;
  maxSessions: number;
  options: ResolvedHostOptions;
  files: HostFile[];
}

export interface PlanInput {
  index: number;
  size: number;
  port: number;
  logDir: string;
  maxStartups: string;
  maxSessions: number;
  options: ResolvedHostOptions;
  files: HostFile[];
}

/** `fleet-01`, ... or `fleet-001`, ... when the fleet has more than 99 hosts. */
export const hostName = (index: number, size: number): string =>
  `fleet-${String(index + 1).padStart(size > 99 ? 3 : 2, '0')}`;

export const planHost = (input: PlanInput): HostPlan => {
  const octet = input.index + 2;
  const name = hostName(input.index, input.size);
  const dir = hostDir(octet);
  return {
    index: input.index,
    octet,
    name,
    address: `127.0.0.${octet}`,
    port: input.port,
    user: hostUser(octet),
    home: `${dir}/home`,
    dir,
    configFile: `${dir}/sshd/sshd_config`,
    hostKeyFile: `${dir}/sshd/ssh_host_ed25519_key`,
    logFile: path.join(input.logDir, `${name}.log`),
    maxStartups: input.maxStartups,
    maxSessions: input.maxSessions,
    options: input.options,
    files: input.files,
  };
};
