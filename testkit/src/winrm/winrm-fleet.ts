import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WinrmEndpoint, type EndpointStats } from './endpoint.js';
import { execOnHost, type HostExecResult } from './host-exec.js';
import type { CommandView } from './shells.js';
import { createFleetTls } from './tls.js';
import { resolveEndpointOptions, type WinHostOptions } from './win-host-options.js';
import { WinHost } from './win-host.js';

/**
 * A fleet of simulated Windows hosts, each behind a real WS-Management endpoint (HTTP and HTTPS)
 * on its own loopback address. Nothing runs outside this process: hosts are objects, their files
 * live under one temporary directory, and stop() closes every listener and removes the directory.
 */

export interface WinrmFleetOptions {
  /** 1..250 hosts on 127.0.0.<firstOctet> onwards. */
  size: number;
  /** Default 2; e.g. 101 keeps clear of the SSH fleet's addresses. */
  firstOctet?: number;
  /** Default 5985; 0 = an ephemeral port per host (reported in hosts[i].httpPort). */
  httpPort?: number;
  /** Default 5986; 0 = ephemeral. */
  httpsPort?: number;
  host?: (index: number) => WinHostOptions;
}

export interface WinrmFleetHost {
  index: number;
  /** `win-01` (three digits past 99 hosts). */
  name: string;
  /** `WIN-01`: the computer name scripts see. */
  hostname: string;
  address: string;
  httpPort: number;
  httpsPort: number;
  /** The NTLM domain of the local account: the hostname. */
  domain: string;
  username: string;
  /** Random, per host. */
  password: string;
}

export interface WinrmFleet {
  hosts: WinrmFleetHost[];
  /** PEM of the CA that signed the hosts' TLS certificate, for clients to trust. */
  caCertificate: string;
  /** Accepted for certificate authentication on every host (mapped to the host's account). */
  clientCertificate: { certificate: string; privateKey: string };
  /** The simulated host's state, for set-up and assertions. */
  host(index: number): WinHost;
  /** Host down: both listeners closed, open connections cut, its shells gone (its state stays). */
  stopHost(index: number): Promise<void>;
  startHost(index: number): Promise<void>;
  /** The next `count` SOAP requests to the host answer HTTP 500 with a fault. */
  failRequests(index: number, count: number): void;
  stats(index: number): EndpointStats;
  /** The commands in the host's open shells: what a client started and is still sending to. */
  commands(index: number): CommandView[];
  /** Whether the host's endpoint listens: false once it shut down, or while it restarts. */
  isUp(index: number): boolean;
  /** With true, the host's next restarts take it down and leave it down (a host that never comes back). */
  holdDownOnRestart(index: number, hold: boolean): void;
  /** Runs a command line on the host directly (not through WinRM), for set-up and assertions. */
  exec(index: number, commandLine: string, options?: { stdin?: string | Buffer }): Promise<HostExecResult>;
  stop(): Promise<void>;
}

const USERNAME = 'Administrator';
/** How long after Restart-Computer / Stop-Computer the host stops answering, and how long a restart keeps it down. */
const POWER_LAG_MS = 1_000;
const RESTART_DOWN_MS = 1_500;

const checkPort = (name: string, port: number | undefined): void => {
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535))
    throw new Error(`${name} must be 0..65535 (got ${port})`);
};

export const startWinrmFleet = async (options: WinrmFleetOptions): Promise<WinrmFleet> => {
  const first = options.firstOctet ?? 2;
  if (!Number.isInteger(options.size) || options.size < 1 || options.size > 250)
    throw new Error(`size must be an integer from 1 to 250 (got ${options.size})`);
  if (!Number.isInteger(first) || first < 1 || first + options.size - 1 > 254)
    throw new Error(`firstOctet ${first} with ${options.size} hosts leaves 127.0.0.1..254`);
  checkPort('httpPort', options.httpPort);
  checkPort('httpsPort', options.httpsPort);
  const digits = options.size > 99 ? 3 : 2;
  const specs = Array.from({ length: options.size }, (_, index) => {
    const name = `win-${String(index + 1).padStart(digits, '0')}`;
    const hostOptions = options.host?.(index) ?? {};
    return {
      index,
      name,
      address: `127.0.0.${first + index}`,
      hostOptions,
      endpoint: resolveEndpointOptions(hostOptions),
    };
  });

  const root = await mkdtemp(path.join(tmpdir(), 'opsc-winrm-fleet-'));
  const removeRootSync = () => rmSync(root, { recursive: true, force: true });
  process.on('exit', removeRootSync);
  const endpoints: WinrmEndpoint[] = [];
  const stopping = new AbortController();
  const stopAll = async () => {
    stopping.abort();
    await Promise.all(endpoints.map((e) => e.close()));
    await rm(root, { recursive: true, force: true });
    process.off('exit', removeRootSync);
  };
  try {
    const tls = await createFleetTls(
      specs.map((s) => s.address),
      `${USERNAME.toLowerCase()}@localhost`,
    );
    const hosts: WinrmFleetHost[] = [];
    const states: WinHost[] = [];
    for (const spec of specs) {
      const hostname = spec.name.toUpperCase();
      const dir = path.join(root, spec.name);
      await mkdir(dir);
      const host = new WinHost(
        { name: spec.name, hostname, address: spec.address, username: USERNAME },
        dir,
        spec.hostOptions,
      );
      for (const [file, content] of Object.entries(spec.hostOptions.files ?? {})) await host.writeFile(file, content);
      for (const prefix of spec.hostOptions.denyWrite ?? []) host.denyWrite(prefix);
      for (const folder of spec.hostOptions.createdByLocalUser ?? []) await host.createAsLocalUser(folder);
      for (const folder of spec.hostOptions.openToLocalUsers ?? []) await host.openToLocalUsers(folder);
      const password = `${randomBytes(12).toString('base64url')}-Aa1`;
      const endpoint = new WinrmEndpoint(
        host,
        spec.endpoint,
        { username: USERNAME, password, hostname, clientFingerprint: tls.client.fingerprint256 },
        { certificate: tls.server.certificate, privateKey: tls.server.privateKey, ca: tls.caCertificate },
      );
      endpoints.push(endpoint);
      states.push(host);
      const ports = await endpoint.listen({ http: options.httpPort ?? 5985, https: options.httpsPort ?? 5986 });
      hosts.push({
        index: spec.index,
        name: spec.name,
        hostname,
        address: spec.address,
        httpPort: ports.http,
        httpsPort: ports.https,
        domain: hostname,
        username: USERNAME,
        password,
      });
    }

    // Restart-Computer / Stop-Computer: the endpoint goes down a moment after the command's answer
    // went out; a restart boots the host again (a later boot time) and listens again.
    const held = new Set<number>();
    states.forEach((host, index) => {
      host.onPower = (action) => {
        const endpoint = endpoints[index]!;
        const ports = { http: hosts[index]!.httpPort, https: hosts[index]!.httpsPort };
        setTimeout(() => {
          void (async () => {
            await endpoint.close();
            if (action !== 'restart') return;
            await new Promise((r) => setTimeout(r, RESTART_DOWN_MS));
            host.boot();
            if (!held.has(index) && !stopping.signal.aborted) await endpoint.listen(ports);
          })().catch((err: unknown) => process.stderr.write(`winrm fleet: ${(err as Error).message}\n`));
        }, POWER_LAG_MS).unref();
      };
    });
    const at = <T>(list: T[], index: number): T => {
      const item = list[index];
      if (item === undefined) throw new RangeError(`no host ${index} in a fleet of ${list.length}`);
      return item;
    };
    return {
      hosts,
      caCertificate: tls.caCertificate,
      clientCertificate: { certificate: tls.client.certificate, privateKey: tls.client.privateKey },
      host: (index) => at(states, index),
      stopHost: (index) => at(endpoints, index).close(),
      startHost: async (index) => {
        const host = at(hosts, index);
        const endpoint = at(endpoints, index);
        if (!endpoint.listening) await endpoint.listen({ http: host.httpPort, https: host.httpsPort });
      },
      isUp: (index) => at(endpoints, index).listening,
      holdDownOnRestart: (index, hold) => void (at(hosts, index), hold ? held.add(index) : held.delete(index)),
      failRequests: (index, count) => {
        at(endpoints, index).failNext = count;
      },
      stats: (index) => at(endpoints, index).snapshot(),
      commands: (index) => at(endpoints, index).shells.commands(),
      exec: (index, commandLine, execOptions) =>
        execOnHost(at(states, index), commandLine, { ...execOptions, signal: stopping.signal }),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
};
