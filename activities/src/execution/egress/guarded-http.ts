import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { urlPort } from '@opsc/contracts';
import { CappedBuffer } from '../capped-buffer.js';
import type { ResolvedAddress } from './egress-guard.js';

export interface AddressedRequest {
  url: URL;
  /** The checked address to connect to: the URL's host is only the Host header and the TLS name. */
  address: ResolvedAddress;
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  /** Bytes of the body kept; reading goes on (to count) up to four times this. */
  capBytes: number;
}

export interface AddressedResponse {
  status: number;
  contentType: string | null;
  /** Where a redirect points; it is not followed. */
  location: string | null;
  body: CappedBuffer;
}

/**
 * One HTTP request to an address the egress policy checked, never to a name the OS resolves again
 * (no DNS-rebinding window). TLS still verifies the certificate against the URL's host name.
 * Redirects are answers, not followed: the approved request goes to the approved URL only.
 */
export const requestAddress = (req: AddressedRequest): Promise<AddressedResponse> =>
  new Promise((resolve, reject) => {
    const secure = req.url.protocol === 'https:';
    const hostname = req.url.hostname.replace(/^\[|\]$/g, '');
    const hasHost = Object.keys(req.headers).some((h) => h.toLowerCase() === 'host');
    const options: https.RequestOptions = {
      host: req.address.address,
      family: req.address.family,
      port: urlPort(req.url),
      method: req.method,
      path: `${req.url.pathname}${req.url.search}`,
      headers: { ...(hasHost ? {} : { host: req.url.host }), ...req.headers },
      agent: false,
      signal: req.signal,
      ...(secure && isIP(hostname) === 0 && { servername: hostname }),
    };
    const request = (secure ? https : http).request(options, (res) => {
      const body = new CappedBuffer(req.capBytes);
      const done = () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: res.headers['content-type'] ?? null,
          location: res.headers.location ?? null,
          body,
        });
      res.on('data', (chunk: Buffer) => {
        body.push(chunk);
        // Keep reading only to count; stop once far past the cap to spare memory and bandwidth.
        if (body.totalBytes > req.capBytes * 4) {
          res.destroy();
          done();
        }
      });
      res.once('end', done);
      res.once('error', reject);
      res.once('aborted', () => reject(Object.assign(new Error('the answer was cut off'), { code: 'ECONNRESET' })));
    });
    request.once('error', reject);
    request.end(req.body);
  });
