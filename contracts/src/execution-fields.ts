import type { Action, DatabaseAction, HttpAction, LocalCommandAction, SshAction, WinrmAction } from './plan.js';

/*
 * What the executor receives of an action: the fields the workflow sends with each method's
 * activity. The workflow builds its activity inputs with these, and the executor checks an input
 * against the job's plan with the same ones, so the two cannot drift apart.
 */
export const localCommandFields = (a: Pick<LocalCommandAction, 'command' | 'args'>) => ({
  command: a.command,
  args: a.args,
});
export const httpFields = (a: Pick<HttpAction, 'url' | 'httpMethod' | 'headers' | 'body'>) => ({
  url: a.url,
  httpMethod: a.httpMethod,
  headers: a.headers,
  ...(a.body !== undefined && { body: a.body }),
});
export const sshFields = (a: Pick<SshAction, 'operation' | 'become'>) => ({ operation: a.operation, become: a.become });
export const winrmFields = (a: Pick<WinrmAction, 'operation'>) => ({ operation: a.operation });
export const databaseFields = (a: Pick<DatabaseAction, 'query' | 'allowWrites' | 'maxRows'>) => ({
  query: a.query,
  allowWrites: a.allowWrites,
  maxRows: a.maxRows,
});

/** The fields of any action, by its method. */
export const executionFields = (action: Action): Record<string, unknown> => {
  switch (action.method) {
    case 'local-command':
      return localCommandFields(action);
    case 'http':
      return httpFields(action);
    case 'ssh':
      return sshFields(action);
    case 'winrm':
      return winrmFields(action);
    case 'database':
      return databaseFields(action);
    case 'timer':
      return { seconds: action.seconds };
  }
};
