import { describe, expect, it } from 'vitest';
import { Plan } from './plan.js';
import { actionRisk } from './risk.js';
import { sqlActsOnServer, sqlOnlyReads, sqlStatementCount } from './sql-text.js';

const riskOf = (query: string, allowWrites = false) =>
  actionRisk(
    Plan.parse({
      name: 'p',
      steps: [{ id: 's', name: 's', targets: { group: 'g' }, action: { method: 'database', query, allowWrites } }],
    }).steps[0]!.action,
  );

describe('statements in a SQL text, as PostgreSQL splits them', () => {
  it('counts one for one statement, with or without a trailing semicolon or comment', () => {
    for (const sql of [
      'select 1',
      'select 1;',
      'select 1 ;  \n',
      'select 1; -- done',
      'select 1; /* done; really */',
      ';;select 1;;',
      'select \'a;b\', "c;d" from t',
      "select 'it''s; fine'",
      'select 1 -- a comment; with a semicolon\n',
      'select 1 /* outer /* inner; */ still; comment */',
      'select $$a;b$$, $tag$ $$; $tag$',
      "select E'\\\\'",
      'select "a""b;c" from t',
      'select x$y$z from t',
    ])
      expect(sqlStatementCount(sql), sql).toBe(1);
  });

  it("counts every statement a ';' outside quotes and comments ends", () => {
    expect(sqlStatementCount('select 1; commit; drop table users')).toBe(3);
    expect(sqlStatementCount('show x; set transaction read write; delete from users')).toBe(3);
    expect(sqlStatementCount("select 'a'; delete from t")).toBe(2);
    expect(sqlStatementCount('select "x"; delete from t')).toBe(2);
    expect(sqlStatementCount('select 1 -- c\n; delete from t')).toBe(2);
    expect(sqlStatementCount('select 1 /* c */; delete from t')).toBe(2);
    expect(sqlStatementCount('select $$x$$; delete from t')).toBe(2);
    expect(sqlStatementCount('select $a$ $b$ $a$; delete from t')).toBe(2);
  });

  it('reads quotes the way the server may, so no reading hides a second statement', () => {
    // E'...' takes backslash escapes: the quote after \ does not end it.
    expect(sqlStatementCount("select E'\\''; delete from t; --'")).toBeGreaterThan(1);
    // With standard_conforming_strings off a plain string takes them too.
    expect(sqlStatementCount("select '\\''; delete from t; --'")).toBeGreaterThan(1);
    // With it on (the default) a backslash is a character: the string ends at the next quote.
    expect(sqlStatementCount("select '\\'; delete from t; --'")).toBeGreaterThan(1);
    // "ne" is a word, not E: a plain string follows.
    expect(sqlStatementCount("select ne'\\'; delete from t; --'")).toBeGreaterThan(1);
    // Block comments nest: a quote inside the inner one is comment text.
    expect(sqlStatementCount("select /* /* */ ' */; delete from t; --'")).toBeGreaterThan(1);
    // $ inside a word is part of the name, not a dollar quote.
    expect(sqlStatementCount('select a$$; delete from t; $$')).toBeGreaterThan(1);
    // A number followed by E or $ reads differently across server versions: counted as more than one.
    expect(sqlStatementCount("select 1e'\\''; delete from t; --'")).toBeGreaterThan(1);
    expect(sqlStatementCount('select 1$$; delete from t; $$')).toBeGreaterThan(1);
  });

  it('counts nothing in a text with no statement', () => {
    expect(sqlStatementCount('')).toBe(0);
    expect(sqlStatementCount(' ; -- nothing\n /* here */ ;')).toBe(0);
  });
});

describe('what a database step can do', () => {
  it('reads for one read statement in a read-only step', () => {
    for (const sql of ['SELECT count(*) FROM orders', 'with x as (select 1) select * from x;', 'SHOW server_version'])
      expect(riskOf(sql), sql).toBe('read');
    expect(sqlOnlyReads('explain select 1')).toBe(true);
  });

  it('is destructive for several statements, whatever the first word, and with writes allowed', () => {
    expect(riskOf('select 1; commit; drop table users')).toBe('destructive');
    expect(riskOf('show x; set transaction read write; delete from users')).toBe('destructive');
    expect(riskOf('UPDATE orders SET x = 1', true)).toBe('destructive');
    expect(sqlOnlyReads('select 1; commit; drop table users')).toBe(false);
  });

  it('is destructive for a read that acts on the server: signals a backend, reloads, writes a file', () => {
    for (const sql of [
      'select pg_terminate_backend(pid) from pg_stat_activity',
      'SELECT pg_catalog.PG_CANCEL_BACKEND(42)',
      'select "pg_terminate_backend"(42)',
      'select pg_reload_conf()',
      "select dblink_exec('dbname=x', 'delete from t')",
      "select lo_export(1, '/tmp/x')",
      'select U&"pg\\005fterminate_backend"(42)',
    ]) {
      expect(sqlActsOnServer(sql), sql).toBe(true);
      expect(riskOf(sql), sql).toBe('destructive');
      expect(sqlOnlyReads(sql), sql).toBe(false);
    }
    expect(sqlActsOnServer('select pid, state from pg_stat_activity')).toBe(false);
  });

  it('is a change for any other statement in a read-only step: it runs, read-only, but is not a plain read', () => {
    expect(riskOf("copy (select 1) to program 'id'")).toBe('change');
    expect(riskOf('set transaction read write')).toBe('change');
    expect(riskOf('call refresh()')).toBe('change');
    expect(riskOf('/* a comment first */ select 1')).toBe('change');
  });
});
