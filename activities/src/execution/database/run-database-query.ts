import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import pg from 'pg';
import { ErrorType, sqlStatementCount, type CommandOutput, type RunDatabaseQueryInput } from '@opsc/contracts';
import type { ExecutionDeps } from '../deps.js';
import { UNREACHABLE_CODES } from '../network-errors.js';
import { RemoteFailure } from '../remote-failure.js';
import { attemptRecorder, commandOutput, performedText, type Performed } from '../remote-result.js';
import { outputLineKey } from '../output-lines/sink.js';

const CONNECT_TIMEOUT_MS = 10_000;
/** SQLSTATEs that mean the login was refused: invalid_password, invalid_authorization_specification. */
const AUTH_STATES = new Set(['28P01', '28000']);
const CURSOR_QUERY = /^\s*(select|with|values|table)\b/i;
/** The server's refusal of a second statement in an extended-protocol query (syntax_error). */
const MULTIPLE_COMMANDS = /cannot insert multiple commands into a prepared statement/i;

/**
 * The statement as one extended-protocol query (Parse, Bind, Execute): the server refuses a text of
 * more than one statement there, where the simple protocol would run each in turn, a COMMIT included.
 */
const extended = (text: string): pg.QueryConfig => ({ text, queryMode: 'extended' }) as pg.QueryConfig;

const cell = (value: unknown): string => {
  if (value === null || value === undefined) return 'NULL';
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value).replace(/[\t\r\n]/g, (c) => (c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
};

const tsv = (fields: string[], rows: Record<string, unknown>[]): string =>
  [fields.join('\t'), ...rows.map((r) => fields.map((f) => cell(r[f])).join('\t'))].join('\n') + '\n';

/**
 * Runs one SQL statement on a target's PostgreSQL service. Read-only by default: the session is
 * read-only and the statement runs in a READ ONLY transaction (a write fails there, whatever the
 * statement says), rows are fetched through a cursor up to `maxRows`, and the step's timeout is the
 * statement timeout. The statement goes over the extended protocol, which takes exactly one: a text
 * of several fails (ValidationFailed, "one SQL statement per step") and none of it runs.
 * A SQL error is a result (exit code 1, the server's message on stderr), like a failed command.
 */
export const createRunDatabaseQuery =
  (deps: ExecutionDeps) =>
  async (input: RunDatabaseQueryInput): Promise<CommandOutput> => {
    const ctx = Context.current();
    const startedAt = new Date();
    const save = attemptRecorder(deps, input, 'database', ctx.info.attempt, startedAt);
    let client: pg.Client | undefined;
    try {
      const service = await deps.database.findService(input.jobId, input.target.id);
      const secret = await deps.database.openSecret(service.credentialId);
      if (secret.kind !== 'password')
        throw new RemoteFailure(
          ErrorType.ValidationFailed,
          `${service.targetName}: a postgresql service needs a password credential, not a ${secret.kind}`,
        );
      const tls =
        service.options.tls === 'disable'
          ? false
          : service.options.tls === 'verify-full'
            ? { rejectUnauthorized: true }
            : { rejectUnauthorized: false };
      const where = `${service.targetName} (${service.address}:${service.port ?? 5432}/${String(service.options.database)})`;
      client = new pg.Client({
        host: service.address,
        port: service.port ?? 5432,
        database: String(service.options.database),
        user: service.username,
        password: secret.password,
        ssl: tls,
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        application_name: `opsc ${input.jobId} ${input.stepId}`,
      });
      client.on('error', () => undefined);
      const onCancel = () => void client?.end().catch(() => undefined);
      ctx.cancellationSignal.addEventListener('abort', onCancel, { once: true });
      try {
        await client.connect();
      } catch (err) {
        const e = err as Error & { code?: string };
        if (e.code && AUTH_STATES.has(e.code))
          throw new RemoteFailure(ErrorType.AuthFailed, `${where} refused the login of ${service.username}`);
        if (e.code && UNREACHABLE_CODES.has(e.code))
          throw new RemoteFailure(ErrorType.HostUnreachable, `${where} is unreachable (${e.code})`);
        if (/timeout/i.test(e.message))
          throw new RemoteFailure(
            ErrorType.HostUnreachable,
            `${where} did not accept a connection within ${CONNECT_TIMEOUT_MS / 1000}s`,
          );
        throw new RemoteFailure(ErrorType.ConnectionLost, `connection to ${where} failed: ${e.code ?? e.message}`);
      }

      let performed: Performed;
      try {
        // Read-only for the session too: a transaction after this one (were one ever begun) is read-only as well.
        if (!input.allowWrites) await client.query('SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY');
        await client.query(input.allowWrites ? 'BEGIN' : 'BEGIN READ ONLY');
        await client.query(`SET LOCAL statement_timeout = ${Math.max(1, input.timeoutSeconds) * 1000}`);
        let fields: string[];
        let rows: Record<string, unknown>[];
        let truncated = false;
        let command: string;
        let affected: number | null = null;
        if (!input.allowWrites && CURSOR_QUERY.test(input.query)) {
          await client.query(extended(`DECLARE opsc_rows NO SCROLL CURSOR FOR ${input.query}`));
          const fetched = await client.query(`FETCH FORWARD ${input.maxRows + 1} FROM opsc_rows`);
          truncated = fetched.rows.length > input.maxRows;
          rows = fetched.rows.slice(0, input.maxRows);
          fields = fetched.fields.map((f) => f.name);
          command = 'SELECT';
        } else {
          const result = await client.query(extended(input.query));
          fields = (result.fields ?? []).map((f) => f.name);
          truncated = result.rows.length > input.maxRows;
          rows = result.rows.slice(0, input.maxRows);
          command = result.command;
          affected = result.rowCount;
        }
        await client.query('COMMIT');
        const text = fields.length ? tsv(fields, rows) : `${command}${affected !== null ? ` ${affected}` : ''}\n`;
        performed = {
          ...performedText(truncated ? `${text}(more rows than ${input.maxRows}; the rest were not fetched)\n` : text, {
            command,
            rows: String(rows.length),
            truncated: String(truncated),
            ...(fields.length && { columns: fields.join(',') }),
            ...(affected !== null && { affected: String(affected) }),
          }),
        };
      } catch (err) {
        const e = err as Error & { code?: string };
        if (e instanceof RemoteFailure) throw e;
        if (ctx.cancellationSignal.aborted)
          throw new RemoteFailure(ErrorType.Cancelled, 'cancelled; the connection was closed');
        if (!e.code)
          throw new RemoteFailure(ErrorType.ConnectionLost, `the connection to ${where} dropped: ${e.message}`);
        // The server's words depend on its lc_messages: a syntax error on a text of several statements says the same.
        if (e.code === '42601' && (MULTIPLE_COMMANDS.test(e.message) || sqlStatementCount(input.query) > 1))
          throw new RemoteFailure(
            ErrorType.ValidationFailed,
            `one SQL statement per step: ${where} refused the text, which holds more than one (${e.message}); nothing ran`,
          );
        if (e.code === '57014')
          throw new RemoteFailure(
            ErrorType.Timeout,
            `the statement ran past ${input.timeoutSeconds}s on ${where} and was cancelled`,
          );
        const message = `ERROR ${e.code}: ${e.message}\n`;
        performed = {
          exitCode: 1,
          signal: null,
          stdout: '',
          stderr: message,
          stdoutBytes: 0,
          stderrBytes: Buffer.byteLength(message),
          stdoutTruncated: false,
          stderrTruncated: false,
          facts: { sqlstate: e.code },
        };
      } finally {
        ctx.cancellationSignal.removeEventListener('abort', onCancel);
      }
      // The rows come in one FETCH, so they reach the live log when the statement is done, not row by row.
      const lines = deps.lines.open(outputLineKey(input, ctx.info.attempt));
      lines.writeText('stdout', performed.stdout);
      lines.writeText('stderr', performed.stderr);
      await lines.close();
      await save(performed);
      return commandOutput(performed, deps.limits.resultCapBytes, startedAt);
    } catch (err) {
      if (!(err instanceof RemoteFailure)) throw err;
      await save({}, { type: err.type, message: err.message }).catch(() => undefined);
      if (err.type === ErrorType.Cancelled) throw new CancelledFailure(err.message);
      throw err.toApplicationFailure();
    } finally {
      await client?.end().catch(() => undefined);
    }
  };
