import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHostSpecs } from '../host-spec-file.js';
import { watchStateFile, type WinHostState } from './state-file.js';
import type { WinHostOptions } from './win-host-options.js';
import { startWinrmFleet, type WinrmFleet } from './winrm-fleet.js';

const EXE = 'C:\\Station\\station.exe';
const options = (): WinHostOptions => ({
  services: [{ name: 'station', path: EXE, status: 'Running', stopDelayMs: 50 }],
  files: { [EXE]: 'v1\n' },
});

describe('the WinRM fleet state file', () => {
  let dir: string;
  let fleet: WinrmFleet;
  let stop: () => Promise<void>;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'opsc-winrm-state-'));
    fleet = await startWinrmFleet({ size: 2, firstOctet: 226, httpPort: 0, httpsPort: 0, host: options });
    stop = watchStateFile(fleet, options, path.join(dir, 'state.json'), 50);
  });
  afterAll(async () => {
    await stop?.();
    await fleet?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const hosts = async () =>
    (JSON.parse(await readFile(path.join(dir, 'state.json'), 'utf8').catch(() => '{}')) as { hosts?: WinHostState[] })
      .hosts ?? [];

  it("shows each host's own services and the SHA-256 of its own files, and follows their changes", async () => {
    await expect
      .poll(async () => (await hosts()).map((h) => [h.name, h.services.station]))
      .toEqual([
        ['win-01', 'Running'],
        ['win-02', 'Running'],
      ]);
    const v1 = (await hosts())[0]!.files[EXE];
    expect(v1).toBe(createHash('sha256').update('v1\n').digest('hex'));
    fleet.host(1).stopService('station');
    await fleet.host(1).writeFile(EXE, 'v2\n');
    await expect
      .poll(async () => (await hosts()).map((h) => [h.services.station, h.files[EXE] === v1, h.changes > 0]))
      .toEqual([
        ['Running', true, false],
        ['Stopped', false, true],
      ]);
  });
});

describe('--hosts files of the fleet CLIs', () => {
  it('take a JSON array of option objects and refuse anything else, naming the file and the entry', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'opsc-host-specs-'));
    const file = (name: string) => path.join(dir, name);
    await writeFile(file('ok.json'), JSON.stringify([{ services: { nginx: 'active' } }, {}]));
    await writeFile(file('object.json'), '{"size": 3}');
    await writeFile(file('entry.json'), '[{}, "web"]');
    await writeFile(file('broken.json'), '[{');
    expect(await readHostSpecs(file('ok.json'))).toEqual([{ services: { nginx: 'active' } }, {}]);
    await expect(readHostSpecs(file('object.json'))).rejects.toThrow(/object\.json: must be a JSON array of 1 to 250/);
    await expect(readHostSpecs(file('entry.json'))).rejects.toThrow(/entry\.json: entry 1 must be an object/);
    await expect(readHostSpecs(file('broken.json'))).rejects.toThrow(/broken\.json: .*JSON/);
    await expect(readHostSpecs(file('missing.json'))).rejects.toThrow(/missing\.json: ENOENT/);
    await rm(dir, { recursive: true, force: true });
  });
});
