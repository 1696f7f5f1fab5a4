import type { EgressRule } from '@opsc/contracts';
import { parseEgressRule } from '@opsc/contracts';
import { systemResolver, type Resolver } from './egress-guard.js';

const REFRESH_MS = 30_000;

/**
 * The platform's own services as deny rules: each named one also by the addresses its name
 * resolves to now (refreshed every 30 s), so a step cannot reach it under another name.
 */
export const platformServices = (
  rules: readonly EgressRule[],
  resolve: Resolver = systemResolver,
): (() => Promise<readonly EgressRule[]>) => {
  let cached: { at: number; rules: readonly EgressRule[] } | undefined;
  return async () => {
    if (cached && Date.now() - cached.at < REFRESH_MS) return cached.rules;
    const expanded: EgressRule[] = [...rules];
    for (const rule of rules) {
      if (rule.name === null) continue;
      const addresses = await resolve(rule.name).catch(() => []);
      for (const { address } of addresses) {
        const text =
          rule.port === null
            ? address
            : address.includes(':')
              ? `[${address}]:${rule.port}`
              : `${address}:${rule.port}`;
        const parsed = parseEgressRule(text);
        if ('rule' in parsed) expanded.push({ ...parsed.rule, text: rule.text });
      }
    }
    cached = { at: Date.now(), rules: expanded };
    return expanded;
  };
};

/** `host:port` of a URL-ish address (`127.0.0.1:7233`, `postgres://u:p@db:5432/x`), as a deny rule text. */
export const serviceRuleText = (host: string, port: number): string =>
  host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
