import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Conflict, Internal, InvalidInput, InvalidPlan, NotFound, Unavailable } from '../errors.js';
import type { Logger } from '@opsc/telemetry';
import { ApiFailure, errorHandler } from './errors.js';
import { ErrorType } from '@opsc/contracts';

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const thrown: Record<string, Error> = {
  'not-found': new NotFound('no job job-x'),
  conflict: new Conflict('the job has finished'),
  invalid: new InvalidInput('unknown targets', [{ path: 'targets.0', message: 'no target named "x"' }]),
  plan: new InvalidPlan('the plan does not validate', [
    { path: 'plan.steps.0.tool.name', message: 'no tool named "y" in the catalog' },
  ]),
  unavailable: new Unavailable('Temporal did not accept the job; it was recorded as failed'),
  internal: new Internal('a ready plan came without its summary'),
  api: new ApiFailure(ErrorType.AuthFailed, 'not signed in'),
  other: new Error('a detail that must stay inside'),
};

let base = '';
let close: () => void = () => undefined;
beforeAll(async () => {
  const app = express();
  app.get('/:case', (req) => {
    throw thrown[req.params.case] ?? new Error('unknown case');
  });
  app.use(errorHandler(quiet));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => server.close();
});
afterAll(() => close());

const answer = async (name: string) => {
  const res = await fetch(`${base}/${name}`);
  return { status: res.status, body: (await res.json()) as unknown };
};

describe('the one table from domain errors to answers', () => {
  it('answers each domain error with its status, type, message and issues', async () => {
    expect(await answer('not-found')).toEqual({
      status: 404,
      body: { error: { type: 'NotFound', message: 'no job job-x' } },
    });
    expect(await answer('conflict')).toEqual({
      status: 409,
      body: { error: { type: 'Conflict', message: 'the job has finished' } },
    });
    expect(await answer('invalid')).toEqual({
      status: 400,
      body: {
        error: {
          type: 'ValidationFailed',
          message: 'unknown targets',
          issues: [{ path: 'targets.0', message: 'no target named "x"' }],
        },
      },
    });
    expect(await answer('plan')).toEqual({
      status: 422,
      body: {
        error: {
          type: 'PlanInvalid',
          message: 'the plan does not validate',
          issues: [{ path: 'plan.steps.0.tool.name', message: 'no tool named "y" in the catalog' }],
        },
      },
    });
    expect(await answer('unavailable')).toEqual({
      status: 503,
      body: { error: { type: 'Unavailable', message: 'Temporal did not accept the job; it was recorded as failed' } },
    });
    expect(await answer('internal')).toEqual({
      status: 500,
      body: { error: { type: 'Internal', message: 'a ready plan came without its summary' } },
    });
    expect(await answer('api')).toEqual({
      status: 401,
      body: { error: { type: 'AuthFailed', message: 'not signed in' } },
    });
  });

  it('keeps any other error opaque', async () => {
    expect(await answer('other')).toEqual({
      status: 500,
      body: { error: { type: 'Internal', message: 'internal error' } },
    });
  });
});
