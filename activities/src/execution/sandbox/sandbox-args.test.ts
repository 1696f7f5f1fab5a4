import { describe, expect, it } from 'vitest';
import { sandboxArgs, type SandboxSpec } from './sandbox-args.js';

const spec: SandboxSpec = {
  program: '/usr/bin/curl',
  args: ['-o', '/etc/x', 'file:///run/secrets/key'],
  path: '/usr/bin:/bin',
  network: false,
  hiddenDirs: [],
  hiddenFiles: [],
  statusFd: 3,
};

/** The values given to each occurrence of a flag that takes `arity` values. */
const valuesOf = (args: string[], flag: string, arity = 1): string[][] =>
  args.flatMap((a, i) => (a === flag && i < args.indexOf('--') ? [args.slice(i + 1, i + 1 + arity)] : []));

describe('the bubblewrap command line of a local command', () => {
  it('ends with the program and its arguments as argv, after --, untouched', () => {
    const args = sandboxArgs(spec);
    expect(args.slice(args.indexOf('--'))).toEqual(['--', '/usr/bin/curl', '-o', '/etc/x', 'file:///run/secrets/key']);
  });

  it('unshares every namespace, drops every capability, starts a new session and dies with the executor', () => {
    const args = sandboxArgs(spec);
    expect(args).toEqual(expect.arrayContaining(['--unshare-all', '--new-session', '--die-with-parent']));
    expect(valuesOf(args, '--cap-drop')).toEqual([['ALL']]);
    expect(args).not.toContain('--share-net');
    expect(args).not.toContain('--cap-add');
  });

  it('shares the network only when asked (a diagnostic whose destinations passed)', () => {
    expect(sandboxArgs({ ...spec, network: true })).toContain('--share-net');
  });

  it('mounts the root read-only, its own /proc and /dev, and private /tmp, /var/tmp and /run', () => {
    const args = sandboxArgs(spec);
    expect(valuesOf(args, '--ro-bind', 2)).toEqual([['/', '/']]);
    expect(valuesOf(args, '--bind', 2)).toEqual([]);
    expect(valuesOf(args, '--proc')).toEqual([['/proc']]);
    expect(valuesOf(args, '--dev')).toEqual([['/dev']]);
    expect(valuesOf(args, '--tmpfs').flat()).toEqual(['/tmp', '/var/tmp', '/run']);
    // Mounts apply in order: the root first, then what covers parts of it.
    expect(args.indexOf('--ro-bind')).toBeLessThan(args.indexOf('--tmpfs'));
  });

  it('hides data folders under empty tmpfs, outermost first, and key files under /dev/null', () => {
    const args = sandboxArgs({
      ...spec,
      hiddenDirs: [
        '/srv/opsc/.data/postgres',
        '/srv/opsc/.data',
        '/var/lib/opsc/artifacts/',
        '/tmp/opsc-vault-x',
        '/etc/opsc',
      ],
      hiddenFiles: ['/etc/opsc/master.pem', '/srv/keys/vault.pem', '/tmp/opsc-vault-x/master.pem'],
    });
    expect(valuesOf(args, '--tmpfs').flat()).toEqual([
      '/tmp',
      '/var/tmp',
      '/run',
      '/etc/opsc',
      '/srv/opsc/.data',
      '/var/lib/opsc/artifacts',
    ]);
    expect(valuesOf(args, '--ro-bind', 2).slice(1)).toEqual([['/dev/null', '/srv/keys/vault.pem']]);
  });

  it('never covers a system folder whole (a key in /etc is hidden as a file)', () => {
    const args = sandboxArgs({ ...spec, hiddenDirs: ['/', '/etc', '/usr', '/var'], hiddenFiles: ['/etc/vault.pem'] });
    expect(valuesOf(args, '--tmpfs').flat()).toEqual(['/tmp', '/var/tmp', '/run']);
    expect(valuesOf(args, '--ro-bind', 2)).toEqual([
      ['/', '/'],
      ['/dev/null', '/etc/vault.pem'],
    ]);
  });

  it('gives the command an environment of PATH, locale and HOME only', () => {
    const args = sandboxArgs(spec);
    expect(args).toContain('--clearenv');
    expect(valuesOf(args, '--setenv', 2)).toEqual([
      ['PATH', '/usr/bin:/bin'],
      ['LANG', 'C.UTF-8'],
      ['LC_ALL', 'C.UTF-8'],
      ['HOME', '/tmp'],
    ]);
    expect(args.indexOf('--clearenv')).toBeLessThan(args.indexOf('--setenv'));
  });

  it('reports on its status descriptor and pins /etc/hosts from another when asked', () => {
    expect(valuesOf(sandboxArgs(spec), '--json-status-fd')).toEqual([['3']]);
    expect(valuesOf(sandboxArgs(spec), '--ro-bind-data', 2)).toEqual([]);
    expect(valuesOf(sandboxArgs({ ...spec, network: true, hostsFd: 4 }), '--ro-bind-data', 2)).toEqual([
      ['4', '/etc/hosts'],
    ]);
  });
});
