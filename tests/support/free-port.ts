/** A TCP port free on 127.0.0.1 right now, below the ephemeral range, for a service a test starts. */
export { freeServicePort as freePort } from '@opsc/telemetry/metrics';
