/*
 * A SQL text read the way PostgreSQL's lexer reads it, as far as where its statements end: '...'
 * strings (E'...' with backslash escapes), "..." names, $tag$...$tag$ bodies, -- comments and nested
 * /* *\/ comments. A ';' anywhere else ends a statement. The reading is made twice, with and without
 * backslash escapes in plain strings (standard_conforming_strings off and on), and the higher count
 * is kept, so no server setting hides a second statement. Where servers of different versions read a
 * text differently (a number followed by E' or $) the text counts as more than one statement.
 * A ';' inside one statement's own grammar (a BEGIN ATOMIC body, a rule's action list) counts too:
 * such a text is refused, never run as one.
 */

const WORD_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;
const DIGIT_OR_DOLLAR = /[0-9$]/;
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;
const AMBIGUOUS = Number.POSITIVE_INFINITY;

/** The end (exclusive) of a quoted run opened at `from`: `quote` doubled is text; a backslash escapes when `escapes`. */
const quoteEnd = (sql: string, from: number, quote: string, escapes: boolean): number => {
  for (let j = from + 1; j < sql.length; j += 1) {
    if (escapes && sql[j] === '\\') j += 1;
    else if (sql[j] === quote) {
      if (sql[j + 1] !== quote) return j + 1;
      j += 1;
    }
  }
  return sql.length;
};

/** The end (exclusive) of a block comment opened at `from`; they nest. */
const commentEnd = (sql: string, from: number): number => {
  let depth = 0;
  for (let j = from; j < sql.length - 1; j += 1) {
    if (sql[j] === '/' && sql[j + 1] === '*') {
      depth += 1;
      j += 1;
    } else if (sql[j] === '*' && sql[j + 1] === '/') {
      depth -= 1;
      j += 1;
      if (depth === 0) return j + 1;
    }
  }
  return sql.length;
};

const countWith = (sql: string, plainEscapes: boolean): number => {
  let statements = 0;
  let content = false;
  /** Where the word being read began (a name, a keyword, a number), or -1 outside one. */
  let word = -1;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      i += 2;
      while (i < sql.length && sql[i] !== '\n' && sql[i] !== '\r') i += 1;
      word = -1;
      continue;
    }
    if (c === '/' && next === '*') {
      i = commentEnd(sql, i);
      word = -1;
      continue;
    }
    if (c === ';') {
      if (content) statements += 1;
      content = false;
      word = -1;
      i += 1;
      continue;
    }
    if (!/\s/.test(c)) content = true;
    if (c === "'") {
      const numberBefore = word >= 0 && DIGIT_OR_DOLLAR.test(sql[word]!);
      if (numberBefore && /[eE]/.test(sql[i - 1]!)) return AMBIGUOUS;
      const estring = word === i - 1 && /[eE]/.test(sql[word]!);
      i = quoteEnd(sql, i, "'", plainEscapes || estring);
      word = -1;
      continue;
    }
    if (c === '"') {
      i = quoteEnd(sql, i, '"', false);
      word = -1;
      continue;
    }
    if (c === '$' && word >= 0 && DIGIT_OR_DOLLAR.test(sql[word]!)) return AMBIGUOUS;
    if (c === '$' && word < 0) {
      DOLLAR_TAG.lastIndex = i;
      const tag = DOLLAR_TAG.exec(sql)?.[0];
      if (tag) {
        const close = sql.indexOf(tag, i + tag.length);
        i = close < 0 ? sql.length : close + tag.length;
        continue;
      }
    }
    if (WORD_CHAR.test(c)) {
      if (word < 0) word = i;
    } else word = -1;
    i += 1;
  }
  return content ? statements + 1 : statements;
};

/** How many statements a SQL text holds (empty ones not counted); more than one where readings differ. */
export const sqlStatementCount = (sql: string): number => Math.max(countWith(sql, false), countWith(sql, true));

/**
 * Functions that act beyond the transaction, so a read-only one does not stop them: signalling or
 * ending other sessions, reloading or rotating the server, replication slots, files on the server,
 * other databases (dblink). Named anywhere in the text, quoted or not; a Unicode-escaped name (U&"...")
 * counts too, as it could spell one. A function of the database's own that calls one is not seen:
 * what the login may do is the database's grants.
 */
const SERVER_ACTIONS =
  /\b(?:pg_terminate_backend|pg_cancel_backend|pg_reload_conf|pg_rotate_logfile\w*|pg_promote|pg_switch_wal|pg_create_restore_point|pg_log_backend_memory_contexts|pg_drop_replication_slot|pg_create_\w*replication_slot|pg_replication_origin_\w+|pg_stat_reset\w*|pg_file_(?:write|unlink|rename|sync)|lo_export|dblink\w*)\b|\bu&"/i;

/** Whether a SQL text calls a function that acts on the server beyond its transaction. */
export const sqlActsOnServer = (sql: string): boolean => SERVER_ACTIONS.test(sql);

/** Statements that only read, by their first word (a leading comment makes it no plain read). */
const READ_FIRST_WORD = /^\s*(?:select|with|show|explain|values|table)\b/i;

/**
 * Whether a SQL text is one statement that only reads: a read by its first word, in one statement,
 * calling nothing that acts on the server. (A write hidden in a read, `WITH ... DELETE` or `SELECT
 * INTO`, fails in the read-only transaction the executor runs it in.)
 */
export const sqlOnlyReads = (sql: string): boolean =>
  READ_FIRST_WORD.test(sql) && sqlStatementCount(sql) === 1 && !sqlActsOnServer(sql);

/** The message for a text of several statements, on whichever field holds it. */
export const ONE_STATEMENT_MESSAGE =
  "one SQL statement per step: this text holds more than one (a ';' outside quotes and comments ends a statement)";
