import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import os from 'node:os';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType, addressVerdict, hostVerdict, type EgressRule } from '@opsc/contracts';

/** An address a host name resolved to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to all its addresses (getaddrinfo by default; tests inject their own). */
export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (host) =>
  (await lookup(host, { all: true, order: 'verbatim' })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

/** Whose rules apply: the job, and the tenant its input names (checked against the job's record). */
export interface EgressScope {
  jobId: string;
  tenantId: string;
}

export interface EgressGuardDeps {
  /** The tenant's allowed destinations for a job. */
  allowFor: (scope: EgressScope) => Promise<readonly EgressRule[]>;
  /** The platform's own services, names already resolved to addresses too. */
  platform: () => Promise<readonly EgressRule[]>;
  resolve?: Resolver;
  /** This host's own addresses (a platform service on 0.0.0.0 answers on each). */
  localAddresses?: () => string[];
}

export interface EgressGuard {
  /**
   * Every address `host` resolves to, each judged by the egress policy; the caller connects to one
   * of these, never to the name, so DNS cannot answer differently in between. Throws EgressDenied
   * (non-retryable) when any address is refused, HostUnreachable when the name does not resolve.
   */
  resolve(scope: EgressScope, host: string, port: number | null): Promise<ResolvedAddress[]>;
}

export const hostAddresses = (): string[] =>
  Object.values(os.networkInterfaces())
    .flat()
    .flatMap((i) => (i ? [i.address] : []));

const denied = (message: string) =>
  ApplicationFailure.nonRetryable(`egress refused: ${message}`, ErrorType.EgressDenied);

export const createEgressGuard = (deps: EgressGuardDeps): EgressGuard => {
  const resolver = deps.resolve ?? systemResolver;
  const localAddresses = deps.localAddresses ?? hostAddresses;
  return {
    async resolve(scope, host, port) {
      const policy = {
        allow: await deps.allowFor(scope),
        platform: await deps.platform(),
        localAddresses: localAddresses(),
      };
      const bare = host.replace(/^\[|\]$/g, '');
      const before = hostVerdict(bare, port, policy);
      if (!before.allowed) throw denied(before.message);
      let addresses: ResolvedAddress[];
      if (isIP(bare)) addresses = [{ address: bare, family: isIP(bare) === 6 ? 6 : 4 }];
      else {
        try {
          addresses = await resolver(bare);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code ?? 'ENOTFOUND';
          throw ApplicationFailure.retryable(`${bare} does not resolve (${code})`, ErrorType.HostUnreachable);
        }
        if (addresses.length === 0)
          throw ApplicationFailure.retryable(`${bare} does not resolve`, ErrorType.HostUnreachable);
      }
      // Every address must pass: a name that answers with a public and a loopback address is refused.
      for (const a of addresses) {
        const verdict = addressVerdict({ host: bare, address: a.address, port }, policy);
        if (!verdict.allowed) throw denied(verdict.message);
      }
      return addresses;
    },
  };
};
