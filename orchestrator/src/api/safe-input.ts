import type { RequestHandler } from 'express';
import { ErrorType, type FieldIssue } from '@opsc/contracts';
import { ApiFailure } from './errors.js';

/**
 * Nesting deeper than this is refused before any schema sees the body. No plan, inventory or
 * credential comes near it, while recursive code further on (JSON.stringify for jsonb, Temporal's
 * payload converter) overflows the stack at a few thousand levels, far less than 1 MB of brackets.
 */
export const MAX_JSON_DEPTH = 64;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const AT_FAULT = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Why PostgreSQL (text and jsonb both) would refuse `text`, or undefined. */
export const textProblem = (text: string): string | undefined =>
  text.includes('\u0000')
    ? 'must not contain NUL (U+0000)'
    : LONE_SURROGATE.test(text)
      ? 'must not contain a lone UTF-16 surrogate (text that is not Unicode)'
      : undefined;

/** A key as it can be shown: the characters at fault written as \uXXXX. */
const printable = (key: string): string =>
  key.replace(AT_FAULT, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const join = (path: string, key: string | number): string => (path ? `${path}.${key}` : String(key));

/**
 * The first problem in a parsed JSON value, in document order: text PostgreSQL refuses in a key or
 * a value, or nesting past `MAX_JSON_DEPTH`. Iterative, so no input can overflow it.
 */
export const jsonProblem = (value: unknown, root = ''): FieldIssue | undefined => {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: root, depth: 1 }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { path, depth } = item;
    if (typeof item.value === 'string') {
      const problem = textProblem(item.value);
      if (problem) return { path: path || 'body', message: problem };
      continue;
    }
    if (item.value === null || typeof item.value !== 'object') continue;
    if (depth > MAX_JSON_DEPTH)
      return { path: path || 'body', message: `is nested deeper than ${MAX_JSON_DEPTH} levels` };
    const children: { value: unknown; path: string; depth: number }[] = [];
    if (Array.isArray(item.value)) {
      item.value.forEach((child, i) => children.push({ value: child, path: join(path, i), depth: depth + 1 }));
    } else {
      for (const [key, child] of Object.entries(item.value)) {
        const problem = textProblem(key);
        if (problem) return { path: join(path, printable(key)), message: `(a key) ${problem}` };
        children.push({ value: child, path: join(path, key), depth: depth + 1 });
      }
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return undefined;
};

/** The first URL path segment that is not percent-encoded UTF-8 or decodes to text PostgreSQL refuses. */
const pathProblem = (path: string): FieldIssue | undefined => {
  const segments = path.split('/').slice(1);
  for (const [i, segment] of segments.entries()) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return { path: 'path', message: `segment ${i + 1} of the URL path is not percent-encoded UTF-8` };
    }
    const problem = textProblem(decoded);
    if (problem) return { path: 'path', message: `segment ${i + 1} of the URL path ${problem}` };
  }
  return undefined;
};

/**
 * Text at the edge: after parsing and before any route, NUL and lone surrogates are refused
 * anywhere in the URL path, the query string and the JSON body (keys and values), and so is JSON
 * nested absurdly deep. PostgreSQL refuses such text in text and jsonb columns, so a request that
 * carried it could take effect and then fail to be recorded; here it fails first, naming the field.
 */
export const safeInput: RequestHandler = (req, _res, next) => {
  const issue =
    pathProblem(req.path) ??
    jsonProblem(req.query, 'query') ??
    (req.body === undefined ? undefined : jsonProblem(req.body));
  if (issue)
    throw new ApiFailure(ErrorType.ValidationFailed, `invalid request: ${issue.path} ${issue.message}`, [issue]);
  next();
};
