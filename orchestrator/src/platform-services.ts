import { parseEgressRule, type EgressRule } from '@opsc/contracts';
import type { OrchestratorEnv } from './env.js';

const hostPort = (host: string, port: number): string =>
  host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;

/**
 * The platform's services this orchestrator knows of, as egress deny rules for planning: Temporal,
 * PostgreSQL, this API and the Temporal UI. The executor refuses them again at connect time, with
 * its own list; this one lets the validator say so on the field before a job exists.
 */
export const platformServiceRules = (env: OrchestratorEnv): EgressRule[] => {
  const texts: string[] = [];
  const temporal = /^\[?([^\]]+?)\]?:(\d+)$/.exec(env.TEMPORAL_ADDRESS);
  if (temporal) texts.push(hostPort(temporal[1]!, Number(temporal[2])));
  const db = new URL(env.DATABASE_URL);
  texts.push(hostPort(db.hostname.replace(/^\[|\]$/g, ''), Number(db.port || 5432)));
  texts.push(hostPort(env.API_HOST, env.API_PORT));
  if (env.TEMPORAL_UI_URL) {
    const ui = new URL(env.TEMPORAL_UI_URL);
    texts.push(hostPort(ui.hostname.replace(/^\[|\]$/g, ''), Number(ui.port || (ui.protocol === 'https:' ? 443 : 80))));
  }
  return texts.flatMap((text) => {
    const parsed = parseEgressRule(text);
    return 'rule' in parsed ? [parsed.rule] : [];
  });
};
