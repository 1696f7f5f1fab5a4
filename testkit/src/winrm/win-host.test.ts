import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../run.js';
import { WinHost } from './win-host.js';
import { isUnder, normalizeWinPath, parentOf } from './win-paths.js';

describe('a simulated Windows host', () => {
  let dir: string;
  let host: WinHost;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'opsc-winrm-host-'));
    host = new WinHost({ name: 'win-09', hostname: 'WIN-09', address: '127.0.0.209', username: 'Administrator' }, dir, {
      services: [
        { name: 'Relay', path: 'C:\\Relay\\relay.exe', status: 'Stopped', startDelayMs: 100, stopDelayMs: 100 },
      ],
    });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('treats paths as Windows does: case-insensitive, either slash, prefixes by whole segment', async () => {
    expect(normalizeWinPath('c:/Program Files//App\\.\\x\\..\\app.exe')).toBe('C:\\Program Files\\App\\app.exe');
    expect(parentOf('C:\\a')).toBe('C:\\');
    expect(isUnder('C:\\App\\x.txt', 'c:\\app')).toBe(true);
    expect(isUnder('C:\\Apple\\x.txt', 'C:\\App')).toBe(false);
    await host.writeFile('C:\\Data\\Report.TXT', 'r');
    expect((await host.readFile('c:\\data\\report.txt'))?.toString()).toBe('r');
    expect(await readdir(path.join(dir, 'c', 'data'))).toEqual(['report.txt']);
    expect(() => normalizeWinPath('relative\\path')).toThrow(/not an absolute Windows path/);
  });

  it('moves a service through its pending states in real time, its process with it', async () => {
    expect(host.service('relay')).toMatchObject({ name: 'Relay', status: 'Stopped', image: 'relay.exe' });
    host.startService('Relay');
    expect(host.service('Relay')?.status).toBe('StartPending');
    expect(host.processes().some((p) => p.name === 'relay.exe')).toBe(true);
    await sleep(150);
    expect(host.service('Relay')?.status).toBe('Running');
    host.stopService('Relay');
    expect(host.service('Relay')?.status).toBe('StopPending');
    await sleep(150);
    expect(host.service('Relay')?.status).toBe('Stopped');
    expect(host.processes().some((p) => p.name === 'relay.exe')).toBe(false);
  });

  it('lets a test change a service, and release a hung start', async () => {
    host.setService('Relay', { hangOnStart: true });
    host.startService('Relay');
    await sleep(150);
    expect(host.service('Relay')?.status).toBe('StartPending');
    expect(() => host.stopService('Relay')).toThrow(/cannot be stopped/);
    host.setService('Relay', { hangOnStart: false });
    await sleep(150);
    expect(host.service('Relay')?.status).toBe('Running');
    host.setService('Brand-New', { displayName: 'Brand New', status: 'Running', image: 'new.exe' });
    expect(host.service('brand-new')).toMatchObject({ displayName: 'Brand New', status: 'Running' });
    expect(host.processes().filter((p) => p.name === 'new.exe')).toHaveLength(1);
  });
});
