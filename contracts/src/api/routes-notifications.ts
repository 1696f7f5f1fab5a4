import { NotificationChannelInput } from '../notifications.js';
import {
  JobNotificationList,
  NotificationChannelAnswer,
  NotificationChannelList,
  NotificationSubscriptions,
  NotificationTestAnswer,
} from './notifications.js';
import type { ApiRoute } from './route.js';

/** Notification channels, their subscriptions, a test send, and a job's deliveries (docs/notifications.md). */
export const NOTIFICATION_ROUTES: readonly ApiRoute[] = [
  {
    method: 'GET',
    path: '/api/notifications/channels',
    role: 'admin',
    summary: "The tenant's notification channels (settings and a fingerprint; never a secret).",
    answers: { 200: NotificationChannelList },
  },
  {
    method: 'POST',
    path: '/api/notifications/channels',
    role: 'admin',
    summary: 'Creates a channel (webhook, slack or email); its secret is sealed for the vault on arrival.',
    body: NotificationChannelInput,
    answers: { 201: NotificationChannelAnswer },
    errors: ['Conflict', 'Unavailable'],
  },
  {
    method: 'PUT',
    path: '/api/notifications/channels/:name',
    role: 'admin',
    summary: 'Replaces a channel (settings and secret); its subscriptions stay.',
    body: NotificationChannelInput,
    answers: { 200: NotificationChannelAnswer },
    errors: ['Unavailable'],
  },
  {
    method: 'DELETE',
    path: '/api/notifications/channels/:name',
    role: 'admin',
    summary: 'Deletes a channel, its subscriptions and its sealed secret.',
    answers: { 204: null },
  },
  {
    method: 'POST',
    path: '/api/notifications/channels/:name/test',
    role: 'admin',
    summary: 'Sends a test notification through the executor and answers how it went (waits up to 20 s).',
    answers: { 200: NotificationTestAnswer },
    errors: ['Unavailable'],
  },
  {
    method: 'GET',
    path: '/api/notifications/subscriptions',
    role: 'admin',
    summary: 'Which channel hears which event (for every job, or per template).',
    answers: { 200: NotificationSubscriptions },
  },
  {
    method: 'PUT',
    path: '/api/notifications/subscriptions',
    role: 'admin',
    summary: "Replaces the tenant's subscriptions.",
    body: NotificationSubscriptions,
    answers: { 200: NotificationSubscriptions },
  },
  {
    method: 'GET',
    path: '/api/jobs/:id/notifications',
    role: 'viewer',
    summary: "A job's notifications per channel: delivered, being retried, or failed and why.",
    answers: { 200: JobNotificationList },
  },
];
