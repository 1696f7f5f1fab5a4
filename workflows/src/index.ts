export { runJob } from './run-job.js';
export { notifyJob, notifyTest, type NotifyOutcome } from './notify.js';
export { runSchedule } from './run-schedule.js';
