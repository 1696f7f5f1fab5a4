// Starts an SSH fleet for manual tests, benchmarks and the demo:
//   node testkit/dist/fleet-cli.js --size 10 [--hosts FILE] [--port 2222] [--log-dir DIR] [--key-out FILE]
// prints one JSON line per host, then one with the client key's path, and runs until SIGINT/SIGTERM.
// --hosts: a JSON array of per-host options (services, packages, files, sudo, ...; see host-options.ts).
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { integerOption } from './cli-options.js';
import type { FleetHostOptions } from './host-options.js';
import { readHostSpecs } from './host-spec-file.js';
import { startSshFleet } from './ssh-fleet.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string' },
    hosts: { type: 'string' },
    port: { type: 'string' },
    'log-dir': { type: 'string' },
    'key-out': { type: 'string' },
  },
});
const specs = values.hosts === undefined ? [] : ((await readHostSpecs(values.hosts)) as FleetHostOptions[]);
const size = integerOption('size', values.size) ?? (specs.length || undefined);
if (size === undefined) {
  process.stderr.write('usage: fleet-cli --size N [--hosts FILE] [--port P] [--log-dir DIR] [--key-out FILE]\n');
  process.exit(2);
}

const started = performance.now();
const fleet = await startSshFleet({
  size,
  port: integerOption('port', values.port),
  logDir: values['log-dir'],
  host: (index) => specs[index] ?? {},
});
process.stderr.write(`[fleet] ${fleet.hosts.length} hosts up in ${Math.round(performance.now() - started)} ms\n`);

const keyFile = values['key-out'] ?? path.join(await mkdtemp(path.join(tmpdir(), 'opsc-ssh-fleet-key-')), 'id_ed25519');
await writeFile(keyFile, fleet.clientKey.privateKey, { mode: 0o600 });
await chmod(keyFile, 0o600);
for (const host of fleet.hosts) {
  const { name, address, port, username, password } = host;
  process.stdout.write(
    `${JSON.stringify({ name, address, port, username, password, fingerprint: host.hostKey.fingerprint })}\n`,
  );
}
process.stdout.write(`${JSON.stringify({ clientKeyFile: keyFile })}\n`);

const shutdown = (signal: NodeJS.Signals): void => {
  process.stderr.write(`[fleet] ${signal}: stopping\n`);
  fleet.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`[fleet] stop failed: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
