import { describe, expect, it } from 'vitest';
import { WebEnv } from './env';

describe('the web server config', () => {
  it('defaults to the local API and drops a trailing slash', () => {
    expect(WebEnv.parse({}).OPSC_API_URL).toBe('http://127.0.0.1:3005');
    expect(WebEnv.parse({ OPSC_API_URL: 'http://orchestrator:3005/' }).OPSC_API_URL).toBe('http://orchestrator:3005');
  });

  it('refuses a URL that is not http(s), naming the variable', () => {
    const parsed = WebEnv.safeParse({ OPSC_API_URL: 'ftp://orchestrator' });
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual(['OPSC_API_URL']);
  });
});
