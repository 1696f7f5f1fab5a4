import { describe, expect, it } from 'vitest';
import { BUILTIN_TOOLS_DIR, loadCatalog } from '@opsc/planning';
import { unavailableTools } from './tool-availability.js';

describe('which tools the executors cannot run', () => {
  it('hides a local-command tool no live executor can run, with the first reason reported', async () => {
    const catalog = await loadCatalog([BUILTIN_TOOLS_DIR]);
    const missing = { ok: false, reason: 'traceroute is not installed on the executor' };
    expect(unavailableTools(catalog, [])).toEqual(new Map());
    const hidden = unavailableTools(catalog, [
      { programs: { traceroute: missing, ping: { ok: true } } },
      { programs: { traceroute: { ok: false, reason: 'older' } } },
    ]);
    expect(hidden.get('traceroute')).toBe('traceroute is not installed on the executor');
    expect(hidden.has('ping')).toBe(false);
    // Remote tools never depend on an executor's programs.
    expect(hidden.has('service-stop')).toBe(false);
    // One executor that can run it is enough.
    expect(
      unavailableTools(catalog, [
        { programs: { traceroute: missing } },
        { programs: { traceroute: { ok: true } } },
      ]).has('traceroute'),
    ).toBe(false);
    // A program no executor allows at all.
    expect(unavailableTools(catalog, [{ programs: { ping: { ok: true } } }]).get('traceroute')).toMatch(
      /not in the executors' local command allowlist \(EXECUTOR_LOCAL_COMMANDS\)/,
    );
  });
});
