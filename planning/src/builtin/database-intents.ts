import { sqlStatementCount } from '@opsc/contracts';
import { NUMBER, numberOf } from './numbers.js';
import type { Clause } from './spans.js';

/*
 * Questions about an inventory database in plain words, written as read-only SQL. Only names that
 * are plain identifiers go into SQL; anything else is named back to the operator. Three whole-table
 * changes said in plain words ("truncate the sessions table", "drop the temp_import table", "delete
 * all rows from jobs") are written as their one statement and run with writes allowed: destructive,
 * so a person approves them. Any other change to data is never written from a description: the
 * operator writes that statement, in backticks.
 */

export type DatabaseAnswer = { query: string; write?: true } | { refusal: string };

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}(?:\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/;
/** A table's name as written: quoted (anything, checked after) or one word. */
const NAME = String.raw`(?:"([^"\n]{1,128})"|'([^'\n]{1,128})'|([^\s'",;]{1,128}))`;
const TABLE = String.raw`(?:the\s+)?(?:table\s+)?${NAME}(?:\s+table)?`;
const ROWS = String.raw`(?:rows|records|entries|lines)`;

const COUNT = new RegExp(
  String.raw`\b(?:count\s+(?:the\s+|all\s+)?${ROWS}\s+(?:in|of|from)\s+${TABLE}|how\s+many\s+${ROWS}\s+(?:are\s+)?(?:there\s+)?(?:in|of)\s+${TABLE}|(?:row\s+)?count\s+of\s+${TABLE})`,
  'i',
);
const FIRST = new RegExp(
  String.raw`\b(?:show|list|get|display|select|fetch|give)\s+(?:me\s+)?(?:the\s+)?(?:first|top)\s+(${NUMBER})\s+${ROWS}\s+(?:of|from|in)\s+${TABLE}`,
  'i',
);
const RECENT = new RegExp(
  String.raw`\b(?:show|list|get|display|select|fetch|give)\s+(?:me\s+)?(?:the\s+)?(${NUMBER})\s+(?:most\s+recent|latest|newest|last)\s+${ROWS}\s+(?:of|from|in)\s+${TABLE}`,
  'i',
);
const COLUMNS = new RegExp(String.raw`\b(?:describe|(?:the\s+)?(?:columns|structure|schema)\s+of)\s+${TABLE}`, 'i');
const LIST_TABLES = /\b(?:list|show|get|display|what are|which)\s+(?:me\s+)?(?:all\s+)?(?:of\s+)?(?:the\s+)?tables\b/i;
const SIZE =
  /\bhow\s+(?:big|large)\s+(?:is\s+)?(?:the\s+)?(?:\w+\s+)?(?:database|db)\b|\b(?:database|db)\s+size\b|\bsize\s+of\s+(?:the\s+)?(?:\w+\s+)?(?:database|db)\b/i;
const CONNECTIONS =
  /\b(?:show|list|get|display|count|how many|check)\b[^,;]{0,40}?\b(?:active\s+|open\s+|current\s+)?(?:connections|sessions)\b/i;
/** A change to data, described: never written here. */
const WRITE =
  /\b(?:delete|remove|insert|add|update|modify|change|drop|truncate|alter|purge|empty|wipe|clear)\b(?:\s+\S+){0,6}?\s+(?:rows?|records?|tables?|columns?|entries|database|db|schema)\b|\binsert\b[^,;]{0,80}\binto\b/i;

/**
 * Whole-table changes said in plain words, written as their one statement: only when the phrase says
 * "table" (for delete-all: rows or records, and "table" or a database word in the clause), so "truncate
 * the log file" or "empty the nginx cache" is never a table.
 */
const TRUNCATE = new RegExp(String.raw`\b(?:truncate|empty)\s+(?:the\s+)?(?:table\s+${NAME}|${NAME}\s+table\b)`, 'i');
const DROP = new RegExp(String.raw`\bdrop\s+(?:the\s+)?table\s+${NAME}|\bdrop\s+(?:the\s+)?${NAME}\s+table\b`, 'i');
const DATABASE_WORD = String.raw`(?<![\w-])(?:tables?|database|db|schema)(?![\w-])`;
const DELETE_ALL = new RegExp(
  String.raw`\b(?:delete|remove|purge)(?=[^,;\n]{0,160}?${DATABASE_WORD})\s+(?:all|every)\s+(?:the\s+)?(?:rows|records)\s+(?:from|in|of)\s+${TABLE}\b(?!\s+(?:where|that|which|older|newer|before|after|with)\b)`,
  'i',
);
/** A file's words: a phrase with one is never a table change. */
const FILE_WORDS = /\b(?:files?|folders?|director(?:y|ies)|dirs?|caches?|logfiles?|paths?)\b/i;
const write = (answer: DatabaseAnswer): DatabaseAnswer => ('query' in answer ? { ...answer, write: true } : answer);

const LIST_TABLES_SQL =
  "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY table_schema, table_name";
const SIZE_SQL = 'SELECT current_database() AS database, pg_size_pretty(pg_database_size(current_database())) AS size';
const CONNECTIONS_SQL =
  'SELECT pid, usename, application_name, client_addr, state, backend_start FROM pg_stat_activity WHERE datname = current_database() ORDER BY backend_start';

const badName = (name: string): DatabaseAnswer => ({
  refusal: `I can't put the table name "${name}" in SQL: a table name must be letters, digits and underscores (schema.table at most). Write the statement yourself in backticks to query it.`,
});

const table = (m: RegExpExecArray, from: number, sql: (name: string) => string): DatabaseAnswer => {
  const name = (m[from] ?? m[from + 1] ?? m[from + 2] ?? '').trim();
  return IDENTIFIER.test(name) ? { query: sql(name) } : badName(name);
};

/** The first of a regex's table captures that matched (each alternative has three). */
const firstTable = (m: RegExpExecArray, sql: (name: string) => string): DatabaseAnswer => {
  for (let i = 1; i < m.length; i += 3) if (m[i] ?? m[i + 1] ?? m[i + 2]) return table(m, i, sql);
  return badName('');
};

/**
 * What a clause asks of a database, as SQL; `null` when it asks nothing of one. Verbs are read on
 * the masked clause, names on its own text at the same offsets.
 */
export const databaseIntent = (c: Clause): DatabaseAnswer | null => {
  const on = (re: RegExp) => {
    const m = re.exec(c.masked);
    return m ? (re.exec(c.text.slice(m.index)) ?? null) : null;
  };
  const files = FILE_WORDS.test(c.masked) || /(?:^|\s)(?:\/|[A-Za-z]:\\|\\\\)\S/.test(c.text);
  const truncate = files ? null : on(TRUNCATE);
  if (truncate) return write(firstTable(truncate, (t) => `TRUNCATE TABLE ${t}`));
  const drop = files ? null : on(DROP);
  if (drop) return write(firstTable(drop, (t) => `DROP TABLE ${t}`));
  const deleteAll = files ? null : on(DELETE_ALL);
  if (deleteAll) return write(firstTable(deleteAll, (t) => `DELETE FROM ${t}`));
  if (WRITE.test(c.masked) && !/\bback\s*up|\bbackup\b/i.test(c.masked)) {
    const said = c.text.replace(/\s+(?:on|in|against|across)\s+(?:the\s+)?opscinvref\d+.*$/s, '').trim();
    return {
      refusal: `I can't plan "${said}": I never write SQL that changes data from a description. Put the exact statement in backticks (for example \`DELETE FROM sessions WHERE expires_at < now()\`) and it will be planned as a destructive step that needs approval.`,
    };
  }
  const count = on(COUNT);
  if (count) return firstTable(count, (t) => `SELECT count(*) FROM ${t}`);
  const first = on(FIRST);
  if (first) {
    const n = Math.min(10_000, Math.max(1, Math.floor(numberOf(first[1]!))));
    return table(first, 2, (t) => `SELECT * FROM ${t} LIMIT ${n}`);
  }
  const recent = on(RECENT);
  if (recent) {
    const n = Math.min(10_000, Math.max(1, Math.floor(numberOf(recent[1]!))));
    // Which rows are newest is a column's business, and no column is named: said in the SQL and a note.
    return table(recent, 2, (t) => `SELECT * FROM ${t} LIMIT ${n}${UNORDERED}`);
  }
  const columns = on(COLUMNS);
  if (columns)
    return table(columns, 1, (t) => {
      const [schema, name] = t.includes('.') ? t.split('.') : [null, t];
      return `SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = '${name}'${schema ? ` AND table_schema = '${schema}'` : ''} ORDER BY ordinal_position`;
    });
  if (LIST_TABLES.test(c.masked)) return { query: LIST_TABLES_SQL };
  if (SIZE.test(c.masked)) return { query: SIZE_SQL };
  if (CONNECTIONS.test(c.masked)) return { query: CONNECTIONS_SQL };
  return null;
};

const UNORDERED = ' -- rows as stored: add ORDER BY <a time column> DESC for the newest';

/** "the 10 most recent rows": which rows the query without an ORDER BY returns, said to the operator. */
export const unorderedNote = (query: string): string | null => {
  const m = /^SELECT \* FROM (\S+) LIMIT (\d+) -- /.exec(query);
  return m && query.endsWith(UNORDERED)
    ? `the query returns ${m[2]} rows of ${m[1]} in whatever order the database stores them, not necessarily the newest: nothing says which column orders them; add ORDER BY <a time column> DESC to the query for the newest`
    : null;
};

/** The text without the whole-table changes this module writes, so their verbs refuse nothing. */
export const withoutTableChanges = (text: string): string =>
  [TRUNCATE, DROP, DELETE_ALL].reduce(
    (t, re) => t.replace(new RegExp(re.source, 'gi'), (m) => (FILE_WORDS.test(m) ? m : ' '.repeat(m.length))),
    text,
  );

/**
 * Whether backticked SQL only reads data: one statement with a reading first word (anything else runs
 * with writes allowed, and needs approval). A read that acts beyond its transaction (signals a
 * session) still runs read-only; the validator rates it destructive.
 */
export const sqlReadsOnly = (sql: string): boolean =>
  /^\s*(?:select|with|show|explain|values|table)\b/i.test(sql) && sqlStatementCount(sql) === 1;

/** Backticked text that is SQL by its first words. */
export const looksLikeSql = (code: string): boolean =>
  /^\s*(?:select|with|show|explain|insert\s+into|update\s+\S+\s+set|delete\s+from|drop\s+(?:table|index|view|schema|database)|truncate|alter\s+table|create\s+(?:table|index|view|schema)|vacuum|analyze|reindex|grant|revoke)\b/i.test(
    code,
  );
