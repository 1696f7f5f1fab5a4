import { createHash } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import type { WinHostOptions } from './win-host-options.js';
import type { WinrmFleet } from './winrm-fleet.js';

/** What the state file shows of one host: its own services' states and the SHA-256 of its own files. */
export interface WinHostState {
  name: string;
  address: string;
  services: Record<string, string>;
  /** Windows path -> SHA-256 of the content, null once the file is gone. */
  files: Record<string, string | null>;
  /** Service starts and stops and file changes so far. */
  changes: number;
}

const snapshot = async (fleet: WinrmFleet, options: (index: number) => WinHostOptions): Promise<WinHostState[]> =>
  Promise.all(
    fleet.hosts.map(async (host, index) => {
      const state = fleet.host(index);
      const own = options(index);
      const files: Record<string, string | null> = {};
      for (const file of Object.keys(own.files ?? {})) {
        const content = await state.readFile(file);
        files[file] = content && createHash('sha256').update(content).digest('hex');
      }
      return {
        name: host.name,
        address: host.address,
        services: Object.fromEntries(
          (own.services ?? []).map((s) => [s.name, state.service(s.name)?.status ?? 'missing']),
        ),
        files,
        changes: state.journal().length,
      };
    }),
  );

/**
 * Keeps `file` showing the simulated hosts' state (a simulated host has no console to look at):
 * rewritten, whole and atomically, whenever it changes. Returns a function that stops the watch.
 */
export const watchStateFile = (
  fleet: WinrmFleet,
  options: (index: number) => WinHostOptions,
  file: string,
  everyMs = 300,
): (() => Promise<void>) => {
  let last = '';
  let writing = Promise.resolve();
  const write = async () => {
    const text = `${JSON.stringify({ hosts: await snapshot(fleet, options) }, null, 2)}\n`;
    if (text === last) return;
    await writeFile(`${file}.tmp`, text, { mode: 0o644 });
    await rename(`${file}.tmp`, file);
    last = text;
  };
  const tick = () => {
    writing = writing.then(write).catch((err: unknown) => {
      process.stderr.write(`[winrm-fleet] state file: ${(err as Error).message}\n`);
    });
  };
  tick();
  const timer = setInterval(tick, everyMs);
  return async () => {
    clearInterval(timer);
    await writing;
  };
};
