import { DefaultLogger, Runtime } from '@temporalio/worker';

// Quiet workers: a failing test prints its own assertion, not the SDK's chatter (the test server
// does not advertise the capabilities of a full server, which the SDK warns about).
Runtime.install({
  logger: new DefaultLogger('ERROR'),
  telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
});
