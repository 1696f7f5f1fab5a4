import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '@opsc/dev';

/** The parts of a docker-compose.yml service the static tests read. */
export interface Service {
  image?: string;
  environment?: Record<string, string | number>;
  ports?: string[];
  expose?: string[];
  deploy?: { replicas?: number };
  build?: { target?: string };
  command?: string[];
  entrypoint?: string[];
  depends_on?: Record<string, { condition: string }>;
  secrets?: string[];
  volumes?: string[];
  tmpfs?: string[];
  healthcheck?: { test?: string[] };
  networks?: Record<string, { ipv4_address?: string }>;
  restart?: string;
  stop_grace_period?: string;
  user?: string;
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  profiles?: string[];
}

export const compose = parse(readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
  volumes: Record<string, unknown>;
};

export const service = (name: string): Service => {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};

/** A service's environment, every value as the string the container sees. */
export const envOf = (name: string): Record<string, string> =>
  Object.fromEntries(Object.entries(service(name).environment ?? {}).map(([k, v]) => [k, unsetDefault(String(v))]));

/** `${VAR:-default}` as compose writes it when VAR is unset: the default (`${VAR:?…}` stays as written). */
const unsetDefault = (value: string): string => value.replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1');

/** The services `docker compose up` starts: those of no profile. */
export const defaultServices = (): string[] =>
  Object.entries(compose.services)
    .filter(([, svc]) => (svc.profiles ?? []).length === 0)
    .map(([name]) => name)
    .sort();

/** The services of a profile (`docker compose --profile <name> up` adds them). */
export const profileServices = (profile: string): string[] =>
  Object.entries(compose.services)
    .filter(([, svc]) => (svc.profiles ?? []).includes(profile))
    .map(([name]) => name)
    .sort();

/** The services others wait for to have exited 0: run once at start, then gone. */
export const oneShotJobs = (): string[] =>
  [
    ...new Set(
      Object.values(compose.services).flatMap((svc) =>
        Object.entries(svc.depends_on ?? {})
          .filter(([, d]) => d.condition === 'service_completed_successfully')
          .map(([name]) => name),
      ),
    ),
  ].sort();

/** The executor services: one per pool (the `executor` default pool, and the others). */
export const executorServices = (): string[] =>
  Object.entries(compose.services)
    .filter(([, svc]) => svc.build?.target === 'executor-worker')
    .map(([name]) => name)
    .sort();
