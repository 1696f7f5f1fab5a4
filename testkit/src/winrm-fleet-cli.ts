// Starts a WinRM fleet of simulated Windows hosts for manual tests, benchmarks and the demo:
//   node testkit/dist/winrm-fleet-cli.js --size 10 [--hosts FILE] [--first-octet 101] [--http-port P] [--https-port P]
//     [--tls-dir DIR] [--state-file FILE]
// prints one JSON line per host, then one with the paths of the CA and client certificate files,
// and runs until SIGINT/SIGTERM. --hosts: a JSON array of per-host options (services, files,
// denyWrite, ...; see win-host-options.ts). --state-file: kept showing each host's services and files.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { integerOption } from './cli-options.js';
import { readHostSpecs } from './host-spec-file.js';
import { watchStateFile } from './winrm/state-file.js';
import type { WinHostOptions } from './winrm/win-host-options.js';
import { startWinrmFleet } from './winrm/winrm-fleet.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string' },
    hosts: { type: 'string' },
    'state-file': { type: 'string' },
    'first-octet': { type: 'string' },
    'http-port': { type: 'string' },
    'https-port': { type: 'string' },
    'tls-dir': { type: 'string' },
  },
});
const specs = values.hosts === undefined ? [] : ((await readHostSpecs(values.hosts)) as WinHostOptions[]);
const hostOptions = (index: number): WinHostOptions => specs[index] ?? {};
const size = integerOption('size', values.size) ?? (specs.length || undefined);
if (size === undefined) {
  process.stderr.write(
    'usage: winrm-fleet-cli --size N [--hosts FILE] [--first-octet 101] [--http-port P] [--https-port P] [--tls-dir DIR] [--state-file FILE]\n',
  );
  process.exit(2);
}

const started = performance.now();
const fleet = await startWinrmFleet({
  size,
  firstOctet: integerOption('first-octet', values['first-octet']),
  httpPort: integerOption('http-port', values['http-port']),
  httpsPort: integerOption('https-port', values['https-port']),
  host: hostOptions,
});
const stateFile = values['state-file'];
const stopWatch = stateFile === undefined ? undefined : watchStateFile(fleet, hostOptions, stateFile);
process.stderr.write(`[winrm-fleet] ${fleet.hosts.length} hosts up in ${Math.round(performance.now() - started)} ms\n`);

// Clients (pywinrm, curl) want files: the CA to trust, and the client certificate and its key.
// A directory of our own making goes away with the fleet; one given with --tls-dir stays.
const ownTlsDir = values['tls-dir'] === undefined;
const tlsDir = values['tls-dir'] ?? (await mkdtemp(path.join(tmpdir(), 'opsc-winrm-fleet-tls-')));
await mkdir(tlsDir, { recursive: true });
const files = {
  caFile: path.join(tlsDir, 'ca.pem'),
  clientCertFile: path.join(tlsDir, 'client.pem'),
  clientKeyFile: path.join(tlsDir, 'client.key'),
};
await writeFile(files.caFile, fleet.caCertificate);
await writeFile(files.clientCertFile, fleet.clientCertificate.certificate);
await writeFile(files.clientKeyFile, fleet.clientCertificate.privateKey, { mode: 0o600 });
await chmod(files.clientKeyFile, 0o600);
for (const host of fleet.hosts) {
  const { name, hostname, address, httpPort, httpsPort, username, password } = host;
  process.stdout.write(`${JSON.stringify({ name, hostname, address, httpPort, httpsPort, username, password })}\n`);
}
process.stdout.write(`${JSON.stringify(files)}\n`);

const shutdown = (signal: NodeJS.Signals): void => {
  process.stderr.write(`[winrm-fleet] ${signal}: stopping\n`);
  Promise.all([
    stopWatch?.().then(() => fleet.stop()) ?? fleet.stop(),
    ownTlsDir ? rm(tlsDir, { recursive: true, force: true }) : undefined,
  ]).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`[winrm-fleet] stop failed: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
