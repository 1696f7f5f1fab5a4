/** A two-step plan: a `sleep` long enough to crash something during it, then an `echo`. */
export const slowThenEcho = (name: string, sleepSeconds: number, echo = 'after') => ({
  name,
  steps: [
    {
      id: 'slow',
      name: 'Slow step',
      timeoutSeconds: 60,
      action: { method: 'local-command', command: 'sleep', args: [String(sleepSeconds)] },
    },
    { id: 'after', name: 'After', action: { method: 'local-command', command: 'echo', args: [echo] } },
  ],
});
