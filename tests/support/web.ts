import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { inject } from 'vitest';
import { REPO_ROOT, startWeb, waitForHttpOk, type ServiceProcess } from '@opsc/dev';
import { freePort } from './free-port.js';
import type { SshHarness } from './ssh-harness.js';

/** Where each run's screenshots go (test-results/ is not committed). */
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'test-results', 'screenshots');

export const LAPTOP = { width: 1440, height: 900 };
export const TABLET = { width: 820, height: 1180 };

export interface RunningWeb {
  service: ServiceProcess;
  url: string;
}

/**
 * A port for the web app, and the orchestrator environment that lets a browser on it change things
 * with its session cookie (the API's CSRF check allows the web app's origin only): the web app's
 * port must be known before the orchestrator starts.
 */
export const reserveWebPort = async (): Promise<{ port: number; orchestratorEnv: Record<string, string> }> => {
  const port = await freePort();
  return { port, orchestratorEnv: { API_ALLOWED_ORIGINS: `http://127.0.0.1:${port}` } };
};

/** The web app's production build as its own process (on `port`, or a free one), proxying to `apiUrl`; its log goes beside the other services'. */
export const startTestWeb = async (namespace: string, apiUrl: string, port?: number): Promise<RunningWeb> => {
  port ??= await freePort();
  const logDir = inject('logDir');
  mkdirSync(logDir, { recursive: true });
  const file = path.join(logDir, `${namespace}-web.log`);
  const service = startWeb({ port, apiUrl, onLine: (line) => appendFileSync(file, `${line}\n`) });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttpOk(`${url}/login`, 60_000, service);
  return { service, url };
};

/** Debian's Chromium, headless, driven by playwright-core (which never downloads a browser). */
export const launchChromium = (): Promise<Browser> =>
  chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });

export interface UserPage {
  context: BrowserContext;
  page: Page;
  /** Errors the page printed or threw, other than the API's answered refusals (see below). */
  problems: string[];
}

/**
 * A browser context of its own (its own cookies: one signed-in person). Chromium logs every non-2xx
 * fetch as "Failed to load resource"; the UI shows those answers (a 422 on a bad edit, a 403 on a
 * refused approval) on purpose, so only those lines are left out: any other console error, and any
 * uncaught exception, is a problem.
 */
export const openUserPage = async (browser: Browser, baseURL: string, viewport = LAPTOP): Promise<UserPage> => {
  const context = await browser.newContext({ baseURL, viewport });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (
      m.type() === 'error' &&
      !/^Failed to load resource: the server responded with a status of (400|401|403|409|422)/.test(m.text())
    )
      problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  return { context, page, problems };
};

export interface HarnessWeb {
  web: RunningWeb;
  browser: Browser;
  /** One page open on the web app, not signed in. */
  user: UserPage;
  /** An API token per role of `users`. */
  tokens: Record<string, string>;
}

/**
 * The browser side of an SSH harness started with reserveWebPort's orchestratorEnv: users of `roles`
 * in tenant acme (`<prefix>-<role>`, one password), the web app on the reserved port, and Chromium
 * with one page open on it. The web app and the browser close with the harness.
 */
export const openHarnessWeb = async (
  h: SshHarness,
  webPort: number,
  users: { roles: readonly ('operator' | 'approver' | 'admin')[]; prefix: string; password: string },
): Promise<HarnessWeb> => {
  const tokens: Record<string, string> = {};
  for (const role of users.roles)
    tokens[role] = (
      await h.stack.createUser(role, { tenant: 'acme', username: `${users.prefix}-${role}`, password: users.password })
    ).token;
  const web = await startTestWeb(h.stack.namespace, h.orchestrator.apiUrl, webPort);
  h.base.onClose(() => web.service.stop(5_000));
  const browser = await launchChromium();
  h.base.onClose(() => browser.close());
  const user = await openUserPage(browser, web.url);
  return { web, browser, user, tokens };
};

/** Signs in through the login form: user names are unique within a tenant, so the tenant is named too. */
export const signIn = async (page: Page, tenant: string, username: string, password: string): Promise<void> => {
  await page.goto('/login');
  await page.getByLabel('Tenant').fill(tenant);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/login'), { timeout: 15_000 });
};

export const screenshot = async (page: Page, name: string): Promise<string> => {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
};

/** Polls `probe` until it returns something other than undefined. */
export const until = async <T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
};
