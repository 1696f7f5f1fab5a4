import { existsSync } from 'node:fs';
import path from 'node:path';
import { WEB_DIR } from './paths.js';
import { startService, type ServiceProcess } from './service-process.js';

export interface StartWebOptions {
  port: number;
  host?: string;
  /** The orchestrator API the web server proxies /api/* to. */
  apiUrl: string;
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

/**
 * The web app's production build, served by `web/server.js` (Next.js's handler behind a server that
 * tells the API the browser's real address), as its own process. It gets only what it needs: where
 * the API is. No database URL, no Temporal address, no vault key.
 */
export const startWeb = (options: StartWebOptions): ServiceProcess => {
  if (!existsSync(path.join(WEB_DIR, '.next', 'BUILD_ID')))
    throw new Error('the web app is not built: run `npm run setup` (it runs `next build` in web/)');
  return startService({
    name: 'web',
    script: path.join(WEB_DIR, 'server.js'),
    args: ['--port', String(options.port), '--hostname', options.host ?? '127.0.0.1'],
    cwd: WEB_DIR,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      NODE_ENV: 'production',
      NEXT_TELEMETRY_DISABLED: '1',
      OPSC_API_URL: options.apiUrl,
      ...(process.env.WEB_TRUSTED_PROXIES && { WEB_TRUSTED_PROXIES: process.env.WEB_TRUSTED_PROXIES }),
    },
    ...(options.onLine && { onLine: options.onLine }),
  });
};
