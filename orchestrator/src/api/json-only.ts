import type { Request, RequestHandler } from 'express';
import { ErrorType } from '@opsc/contracts';
import { API_ROUTES } from '@opsc/contracts/api';
import { ApiFailure } from './errors.js';

const MUTATIONS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const HOW = 'this API takes JSON in UTF-8 only ("Content-Type: application/json")';

const hasBody = (req: Request): boolean =>
  req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? '0') > 0;

/** Why a Content-Type header is not JSON in UTF-8, or undefined when it is. */
export const contentTypeProblem = (header: string): string | undefined => {
  const [type = '', ...params] = header.split(';');
  const mediaType = type.trim().toLowerCase();
  if (mediaType !== 'application/json')
    return `the request body is ${mediaType ? `"${mediaType.slice(0, 100)}"` : 'of no media type'}; ${HOW}`;
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq < 0) return `the Content-Type header is malformed ("${param.trim().slice(0, 100)}" has no value); ${HOW}`;
    if (param.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    const charset = param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
    if (charset !== 'utf-8') return `charset "${charset.slice(0, 100)}" is not supported; ${HOW}`;
  }
  return undefined;
};

/** Routes whose body is a file (an upload), by `METHOD path`: their own media type, nothing else. */
const RAW_BODIES = new Map(
  API_ROUTES.filter((r) => r.rawBody).map((r) => [`${r.method} ${r.path}`, r.rawBody?.mediaType ?? '']),
);

/**
 * Every mutation with a body must say it is JSON in UTF-8 (an upload route: its own media type, which
 * a foreign page cannot send without a CORS preflight either). The body parser skips any other type,
 * and a route would then see no body at all: a form POST (which a foreign page can send without a
 * preflight) would become an empty, valid request. So anything else is a 415, before parsing.
 */
export const jsonOnly: RequestHandler = (req, _res, next) => {
  if (!MUTATIONS.has(req.method)) return next();
  const header = req.get('content-type');
  const raw = RAW_BODIES.get(`${req.method} ${req.path}`);
  if (raw !== undefined) {
    const mediaType = (header ?? '').split(';')[0]?.trim().toLowerCase();
    if (mediaType !== raw)
      throw new ApiFailure(
        ErrorType.UnsupportedMediaType,
        `the request body is ${mediaType ? `"${mediaType.slice(0, 100)}"` : 'of no media type'}; this route takes "Content-Type: ${raw}"`,
      );
    return next();
  }
  if (header === undefined) {
    if (hasBody(req))
      throw new ApiFailure(ErrorType.UnsupportedMediaType, `the request body has no Content-Type; ${HOW}`);
    return next();
  }
  const problem = contentTypeProblem(header);
  if (problem) throw new ApiFailure(ErrorType.UnsupportedMediaType, problem);
  next();
};
