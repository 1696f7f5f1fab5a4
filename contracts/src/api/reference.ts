import type { OpenApiDocument } from './openapi-document.js';

/*
 * The Markdown reference of the API (`docs/reference/api.md`), written from the OpenAPI document:
 * each route with who may call it, its parameters, body, answers and errors, then each schema
 * with its fields.
 */

type Json = Record<string, unknown>;
const REF = '#/components/schemas/';

const anchor = (name: string): string => name.toLowerCase();
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A schema as a short type expression: `string`, `JobStatus`, `Step[]`, `'a' | 'b'`. */
const typeOf = (schema: unknown): string => {
  if (!schema || typeof schema !== 'object') return 'any';
  const s = schema as Json;
  if (typeof s.$ref === 'string') {
    const name = s.$ref.slice(REF.length);
    return `[${name}](#${anchor(name)})`;
  }
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  const union = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
  if (Array.isArray(union)) return union.map(typeOf).join(' | ');
  if (Array.isArray(s.allOf)) return s.allOf.map(typeOf).join(' & ');
  if (s.type === 'array') return `${typeOf(s.items).includes(' ') ? `(${typeOf(s.items)})` : typeOf(s.items)}[]`;
  if (s.type === 'object') {
    if (s.properties) return 'object';
    if (s.additionalProperties && typeof s.additionalProperties === 'object')
      return `map of ${typeOf(s.additionalProperties)}`;
    return 'object';
  }
  if (Array.isArray(s.type)) return s.type.join(' | ');
  if (typeof s.type === 'string') return typeof s.format === 'string' ? `${s.type} (${s.format})` : s.type;
  return 'any';
};

/** What a field allows beyond its type: bounds, patterns, defaults. */
const notes = (schema: unknown): string => {
  if (!schema || typeof schema !== 'object') return '';
  const s = schema as Json;
  const parts: string[] = [];
  if (s.default !== undefined) parts.push(`default ${JSON.stringify(s.default)}`);
  for (const [key, label] of [
    ['minLength', 'min length'],
    ['maxLength', 'max length'],
    ['minimum', 'min'],
    ['maximum', 'max'],
    ['minItems', 'min items'],
    ['maxItems', 'max items'],
  ] as const) {
    // Zod writes the bounds of every safe integer; only real ones are worth a note.
    if (s[key] !== undefined && Math.abs(Number(s[key])) !== Number.MAX_SAFE_INTEGER)
      parts.push(`${label} ${String(s[key])}`);
  }
  if (typeof s.pattern === 'string') parts.push(`pattern \`${s.pattern}\``);
  return parts.join(', ');
};

const fieldTable = (schema: Json): string[] => {
  const properties = schema.properties as Record<string, unknown> | undefined;
  if (!properties || !Object.keys(properties).length) return [];
  const required = new Set((schema.required as string[] | undefined) ?? []);
  return [
    '| Field | Type | Required | Notes |',
    '| --- | --- | --- | --- |',
    ...Object.entries(properties).map(
      ([name, field]) =>
        `| \`${name}\` | ${cell(typeOf(field))} | ${required.has(name) ? 'yes' : 'no'} | ${cell(notes(field))} |`,
    ),
  ];
};

const schemaSection = (name: string, schema: Json): string[] => {
  const lines = [`### ${name}`, ''];
  const union = (schema.anyOf ?? schema.oneOf) as unknown[] | undefined;
  if (schema.properties) lines.push(...fieldTable(schema));
  else if (Array.isArray(union)) lines.push(`One of: ${union.map(typeOf).join(', ')}.`);
  else lines.push(`${typeOf(schema)}${notes(schema) ? ` (${notes(schema)})` : ''}`);
  return [...lines, ''];
};

const ROLE_TEXT: Record<string, string> = {
  public: 'anyone (no sign-in)',
  viewer: 'any signed-in user (viewer and up)',
  operator: 'operator, approver or admin',
  approver: 'approver or admin',
  admin: 'admin',
};

/** The Markdown reference of `document`. */
export const apiReference = (document: OpenApiDocument): string => {
  const out: string[] = [
    '# OpsConductor HTTP API reference',
    '',
    'Generated from `@opsc/contracts/api` by `npm run docs:api`; do not edit by hand. The same routes and schemas as an',
    'OpenAPI 3.1 document: [openapi.json](openapi.json), also served by the orchestrator at `GET /api/openapi.json`.',
    '',
    'Callers authenticate with an API token (`Authorization: Bearer <token>`) or the session cookie `POST /api/auth/login`',
    'sets. Roles include the ones before them: viewer, operator, approver, admin. Every error answers with an',
    '[ApiError](#apierror) body: its `type`, a `message` safe to show, and the fields at fault (`issues`).',
    '',
    '## Routes',
    '',
  ];
  const operations: { method: string; path: string; op: Json }[] = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(methods))
      operations.push({ method: method.toUpperCase(), path, op: op as Json });
  }
  for (const { method, path } of operations)
    out.push(`- [\`${method} ${path}\`](#${anchor(`${method}-${path}`.replace(/[^A-Za-z0-9-]+/g, '-'))})`);
  out.push('');
  for (const { method, path, op } of operations) {
    out.push(
      `<a id="${anchor(`${method}-${path}`.replace(/[^A-Za-z0-9-]+/g, '-'))}"></a>`,
      '',
      `### \`${method} ${path}\``,
      '',
      String(op.summary),
      '',
    );
    out.push(`- **Who:** ${ROLE_TEXT[String(op['x-role'])] ?? String(op['x-role'])}`);
    const parameters = (op.parameters as Json[] | undefined) ?? [];
    for (const p of parameters) {
      out.push(
        `- **${String(p.in)} \`${String(p.name)}\`**${p.required ? '' : ' (optional)'}: ${cell(typeOf(p.schema))}${notes(p.schema) ? `, ${notes(p.schema)}` : ''}`,
      );
    }
    const body = (op.requestBody as { content: Record<string, { schema: unknown }> } | undefined)?.content[
      'application/json'
    ]?.schema;
    if (body) out.push(`- **Body:** ${typeOf(body)}`);
    const raw = op.requestBody as { description?: string; content: Record<string, unknown> } | undefined;
    if (raw && !body) out.push(`- **Body:** ${Object.keys(raw.content).join(', ')}: ${raw.description ?? ''}`);
    const errors: string[] = [];
    for (const [status, response] of Object.entries(op.responses as Record<string, Json>)) {
      const content = response.content as Record<string, { schema: { $ref?: string } }> | undefined;
      const json = content?.['application/json']?.schema;
      const events = response['x-events'] as Record<string, unknown> | undefined;
      if (json?.$ref === `${REF}ApiError`) errors.push(`${status} ${String(response.description)}`);
      else if (events)
        out.push(
          `- **${status}:** Server-Sent Events: ${Object.entries(events)
            .map(([name, schema]) => `\`${name}\` (${typeOf(schema)})`)
            .join(', ')}`,
        );
      else out.push(`- **${status}:** ${json ? typeOf(json) : 'no body'}`);
    }
    out.push(`- **Errors:** ${errors.join('; ')}`, '');
  }
  out.push(
    '## Schemas',
    '',
    'Answers are described as they are sent; a request schema that reads differently (defaults make fields optional) is named `<Name>Input`.',
    '',
  );
  for (const [name, schema] of Object.entries(document.components.schemas))
    out.push(...schemaSection(name, schema as Json));
  return `${out.join('\n').trimEnd()}\n`;
};
