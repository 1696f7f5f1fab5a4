/** Temporal task queues. The orchestrator never polls `executor`; the executor never polls `orchestrator`. */
export const TaskQueue = {
  orchestrator: 'orchestrator',
  executor: 'executor',
} as const;
export type TaskQueue = (typeof TaskQueue)[keyof typeof TaskQueue];
