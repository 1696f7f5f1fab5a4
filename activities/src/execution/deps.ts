import type { OutputStore } from './output-store.js';

export interface ExecutionLimits {
  /** Bytes of each output stream returned into workflow history. */
  resultCapBytes: number;
  /** Bytes of each output stream kept in PostgreSQL. */
  storeCapBytes: number;
}

export interface ExecutionDeps {
  store: OutputStore;
  limits: ExecutionLimits;
  /** Programs `local-command` may start (names or absolute paths); anything else is refused. */
  allowedLocalCommands: ReadonlySet<string>;
  /** PATH for local commands; the executor's own environment is not inherited. */
  localPath: string;
}
