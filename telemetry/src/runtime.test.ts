import { describe, expect, it } from 'vitest';
import { createLogger } from './log.js';
import { inputContext } from './log-context-interceptor.js';
import { temporalLogger } from './runtime.js';

describe('temporalLogger', () => {
  it("writes the SDK's lines through the JSON logger, its metadata in our keys", () => {
    const lines: string[] = [];
    const sdk = temporalLogger(createLogger('executor-worker', 'debug', { write: (l) => lines.push(l) }), 'info');
    sdk.debug('below the SDK level');
    sdk.trace('below too');
    sdk.warn('Activity failed', {
      sdkComponent: 'worker',
      workflowId: 'job-1',
      workflowRunId: 'run-1',
      activityId: '7',
      attempt: 2,
      taskQueue: 'executor',
      taskToken: 'c2VjcmV0LXRhc2stdG9rZW4=',
      error: new Error('boom'),
    });
    sdk.info('core line', { sdkComponent: 'core', target: 'temporal_sdk_core::worker', spanContexts: ['x'] });
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed).toHaveLength(2);
    expect(parsed[0]).toEqual(
      expect.objectContaining({
        level: 'warn',
        service: 'executor-worker',
        msg: 'Activity failed',
        workflowId: 'job-1',
        runId: 'run-1',
        activityId: '7',
        attempt: 2,
        taskQueue: 'executor',
        sdkComponent: 'worker',
        error: { name: 'Error', message: 'boom' },
      }),
    );
    expect(lines.join('')).not.toContain('c2VjcmV0LXRhc2stdG9rZW4=');
    expect(parsed[1]).toMatchObject({ level: 'info', sdkComponent: 'core', coreTarget: 'temporal_sdk_core::worker' });
    expect(parsed[1]).not.toHaveProperty('target');
    expect(parsed[1]).not.toHaveProperty('spanContexts');
  });
});

describe('inputContext', () => {
  it("takes the job, step and target name from an action's input, and nothing from others", () => {
    expect(
      inputContext({ jobId: 'job-1', stepId: 'restart', target: { id: 't1', name: 'web-01' }, timeoutSeconds: 5 }),
    ).toEqual({ jobId: 'job-1', step: 'restart', target: 'web-01' });
    expect(inputContext({ jobId: 'job-2', status: 'running' })).toEqual({ jobId: 'job-2' });
    expect(inputContext('text')).toEqual({});
    expect(inputContext(undefined)).toEqual({});
  });
});
