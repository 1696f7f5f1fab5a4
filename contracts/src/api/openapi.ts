import { z } from 'zod';
import * as base from '../index.js';
import type { ErrorType } from '../errors.js';
import * as artifacts from './artifacts.js';
import * as common from './common.js';
import * as credentials from './credentials.js';
import * as errors from './errors.js';
import * as events from './events.js';
import * as identity from './identity.js';
import * as inventory from './inventory.js';
import * as jobs from './jobs.js';
import * as notifications from './notifications.js';
import * as openApi from './openapi-document.js';
import type { OpenApiDocument } from './openapi-document.js';
import * as platform from './platform.js';
import * as plans from './plans.js';
import * as results from './results.js';
import * as templates from './templates.js';
import * as triggers from './triggers.js';
import * as schedules from './schedules.js';
import { API_ROUTES, errorsOf, type ApiRoute } from './routes.js';

/*
 * The OpenAPI 3.1 document of the API, generated from the route table and the schemas: each schema
 * exported by the contracts is a component under its export name. Requests are described as they
 * may be sent (defaults optional), answers as they are sent; a schema that reads differently the
 * two ways has a request twin named `<Name>Input`.
 */

type Json = Record<string, unknown>;
const REF = '#/components/schemas/';

/** Every exported schema by its export name; the API's own win over the base contracts' (`PlanSummary`). */
const namedSchemas = (): Map<string, z.ZodType> => {
  const named = new Map<string, z.ZodType>();
  const modules = [
    base,
    common,
    errors,
    jobs,
    results,
    events,
    plans,
    templates,
    triggers,
    schedules,
    inventory,
    credentials,
    artifacts,
    notifications,
    identity,
    platform,
    openApi,
  ];
  for (const module of modules) {
    for (const [name, value] of Object.entries(module)) {
      if (!(value instanceof z.ZodType)) continue;
      const known = named.get(name);
      if (known && known !== value && module === base) continue;
      named.set(name, value);
    }
  }
  // One name per schema: an alias (`ErrorTypeSchema` of the error types) keeps its first name.
  const seen = new Set<z.ZodType>();
  for (const [name, schema] of named) {
    if (seen.has(schema)) named.delete(name);
    seen.add(schema);
  }
  return named;
};

const refsIn = (value: unknown, into: Set<string>): Set<string> => {
  if (Array.isArray(value)) for (const item of value) refsIn(item, into);
  else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key === '$ref' && typeof item === 'string' && item.startsWith(REF)) into.add(item.slice(REF.length));
      else refsIn(item, into);
    }
  }
  return into;
};

/** The components `roots` name, and all they refer to. */
const reachable = (schemas: Record<string, Json>, roots: Iterable<string>): Set<string> => {
  const found = new Set<string>();
  const queue = [...roots];
  for (let name = queue.pop(); name !== undefined; name = queue.pop()) {
    if (found.has(name)) continue;
    found.add(name);
    queue.push(...refsIn(schemas[name], new Set()));
  }
  return found;
};

const componentsOf = (named: Map<string, z.ZodType>, io: 'input' | 'output'): Record<string, Json> => {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of named) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { io, uri: (id) => `${REF}${id}`, unrepresentable: 'any' });
  const out: Record<string, Json> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const { $schema: _schema, $id: _id, ...rest } = schema as Json;
    out[id] = rest;
  }
  return out;
};

const sorted = <T>(record: Record<string, T>): Record<string, T> =>
  Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));

/** The OpenAPI 3.1 document of the API (`GET /api/openapi.json`, `docs/reference/openapi.json`). */
export const openApiDocument = (routes: readonly ApiRoute[] = API_ROUTES): OpenApiDocument => {
  const named = namedSchemas();
  const nameOf = new Map([...named].map(([name, schema]) => [schema, name]));
  const idOf = (schema: z.ZodType, route: ApiRoute): string => {
    const id = nameOf.get(schema);
    if (!id)
      throw new Error(`${route.method} ${route.path}: a schema of the route is not exported by @opsc/contracts/api`);
    return id;
  };
  const input = componentsOf(named, 'input');
  const output = componentsOf(named, 'output');

  const requestRoots = new Set<string>();
  const answerRoots = new Set<string>(['ApiError']);
  for (const route of routes) {
    if (route.body) requestRoots.add(idOf(route.body, route));
    // A query is written out as parameters; only what they refer to becomes a component.
    if (route.query) for (const name of refsIn(input[idOf(route.query, route)], new Set())) requestRoots.add(name);
    for (const answer of Object.values(route.answers)) {
      if (answer === 'events')
        for (const schema of Object.values(events.JOB_EVENTS)) answerRoots.add(idOf(schema, route));
      else if (answer) answerRoots.add(idOf(answer, route));
    }
  }
  const answerNames = reachable(output, answerRoots);
  const requestNames = reachable(input, requestRoots);
  // A request component that reads the same as the answer one is shared; else it gets a twin.
  const twin = new Map<string, string>();
  for (const name of requestNames) {
    if (answerNames.has(name) && JSON.stringify(input[name]) !== JSON.stringify(output[name]))
      twin.set(name, `${name}Input`);
  }
  for (const name of twin.values())
    if (named.has(name)) throw new Error(`the request twin ${name} has the name of another schema`);
  const renamed = (value: unknown): unknown =>
    JSON.parse(JSON.stringify(value), (key, item: unknown) =>
      key === '$ref' && typeof item === 'string' && item.startsWith(REF) && twin.has(item.slice(REF.length))
        ? `${REF}${twin.get(item.slice(REF.length))}`
        : item,
    );
  const requestRef = (name: string) => ({ $ref: `${REF}${twin.get(name) ?? name}` });
  const schemas: Record<string, unknown> = {};
  for (const name of answerNames) schemas[name] = output[name];
  for (const name of requestNames)
    if (!answerNames.has(name) || twin.has(name)) schemas[twin.get(name) ?? name] = renamed(input[name]);

  const paths: Record<string, Record<string, Json>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const parameters: Json[] = [...route.path.matchAll(/:([A-Za-z]+)/g)].map(([, name]) => ({
      name,
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    if (route.query) {
      const query = renamed(input[idOf(route.query, route)]) as {
        properties?: Record<string, Json>;
        required?: string[];
      };
      for (const [name, schema] of Object.entries(query.properties ?? {})) {
        parameters.push({ name, in: 'query', required: query.required?.includes(name) ?? false, schema });
      }
      if (route.path.endsWith('/events'))
        parameters.push({
          name: 'Last-Event-ID',
          in: 'header',
          required: false,
          schema: { type: 'string', pattern: '^\\d{1,18}$' },
        });
    }
    const responses: Record<string, Json> = {};
    for (const [status, answer] of Object.entries(route.answers)) {
      if (answer === null) responses[status] = { description: 'Done; no body.' };
      else if (answer === 'events') {
        responses[status] = {
          description:
            "Server-Sent Events; each event's `data` is the JSON of the schema its name maps to in `x-events`. A `log` event's id is its line's `seq`.",
          content: { 'text/event-stream': { schema: { type: 'string' } } },
          'x-events': Object.fromEntries(
            Object.entries(events.JOB_EVENTS).map(([event, schema]) => [
              event,
              { $ref: `${REF}${idOf(schema, route)}` },
            ]),
          ),
        };
      } else
        responses[status] = {
          description: 'OK',
          content: { 'application/json': { schema: { $ref: `${REF}${idOf(answer, route)}` } } },
        };
    }
    const byStatus = new Map<number, ErrorType[]>();
    for (const type of errorsOf(route)) {
      const status = errors.HTTP_STATUS[type];
      byStatus.set(status, [...(byStatus.get(status) ?? []), type]);
    }
    for (const [status, types] of [...byStatus].sort(([a], [b]) => a - b)) {
      responses[String(status)] = {
        description: types.join(', '),
        content: { 'application/json': { schema: { $ref: `${REF}ApiError` } } },
      };
    }
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = {
      summary: route.summary,
      description: route.role === 'public' ? 'No sign-in needed.' : `Needs the ${route.role} role or one above it.`,
      'x-role': route.role,
      security: route.role === 'public' ? [] : [{ bearer: [] }, { session: [] }],
      ...(parameters.length && { parameters }),
      ...(route.body && {
        requestBody: {
          required: true,
          content: { 'application/json': { schema: requestRef(idOf(route.body, route)) } },
        },
      }),
      ...(route.rawBody && {
        requestBody: {
          required: true,
          description: route.rawBody.description,
          content: {
            [route.rawBody.mediaType]: { schema: { type: 'string', contentMediaType: route.rawBody.mediaType } },
          },
        },
      }),
      responses,
    };
  }
  return {
    openapi: '3.1.0' as const,
    info: {
      title: 'OpsConductor API',
      version: '1',
      description:
        "The orchestrator's HTTP API. Generated from `@opsc/contracts/api` (`npm run docs:api`); do not edit by hand.",
    },
    paths,
    components: {
      schemas: sorted(schemas),
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API token (`POST /api/tokens`).' },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'opsc_session',
          description: 'The session cookie `POST /api/auth/login` sets.',
        },
      },
    },
  };
};
