/** A TCP port free on 127.0.0.1 right now (the OS picks it): the services' own helper. */
export { freeLoopbackPort as freePort } from '@opsc/telemetry/metrics';
