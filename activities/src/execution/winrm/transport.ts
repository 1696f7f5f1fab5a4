import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { ErrorType } from '@opsc/contracts';
import { UNREACHABLE_CODES } from '../network-errors.js';
import { RemoteFailure } from '../remote-failure.js';
import {
  decryptMessage,
  encryptMessage,
  ENCRYPTED_CONTENT_TYPE,
  isEncryptedContentType,
} from './message-encryption.js';
import { NtlmClient, type NtlmSession } from './ntlm/ntlm.js';
import { parseFault, SoapParseError, type WsmanFault } from './soap-response.js';

/** Where a WinRM service listens and how to authenticate to it; the secret comes separately. */
export interface WinrmEndpoint {
  targetId: string;
  targetName: string;
  host: string;
  port: number;
  scheme: 'http' | 'https';
  transport: 'ntlm' | 'basic' | 'kerberos' | 'certificate';
  verifyCertificate: boolean;
  caCertificate?: string;
  username: string;
  credentialId: string;
  /** Changes when the secret changes, so pooled connections made with the old one are not reused. */
  credentialFingerprint: string;
}

export type WinrmAuth =
  | { kind: 'ntlm'; user: string; domain: string; password: string }
  | { kind: 'basic'; user: string; password: string }
  | { kind: 'certificate'; certificate: string; privateKey: string };

/** The header certificate authentication sends instead of credentials (MS-WSMV 2.2.9.2). */
const CERTIFICATE_AUTH = 'http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual';
const SOAP_CONTENT_TYPE = 'application/soap+xml;charset=UTF-8';

/** The server answered with a WS-Management fault (HTTP 500). */
export class WsmanFaultError extends Error {
  constructor(
    readonly fault: WsmanFault,
    where: string,
  ) {
    super(
      `${where} answered with a WS-Management fault${fault.code ? ` ${fault.code}` : ''}: ${fault.message.trim() || fault.reason}`,
    );
    this.name = 'WsmanFaultError';
  }
}

export const endpointUrl = (e: Pick<WinrmEndpoint, 'scheme' | 'host' | 'port'>): string =>
  `${e.scheme}://${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}/wsman`;

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  socket: Socket;
}

/**
 * One HTTP keep-alive connection to a WinRM service, authenticated once when it uses NTLM (NTLM
 * authenticates the TCP connection, not a request). With NTLM over plain HTTP every body travels
 * sealed (MS-WSMV message encryption). Requests go one at a time; a connection the server closed
 * is re-made and re-authenticated on the next request.
 */
export class WinrmConnection {
  readonly url: string;
  private readonly agent: http.Agent;
  private session: NtlmSession | null = null;
  private authenticatedSocket: Socket | null = null;
  private inFlight: http.ClientRequest | null = null;
  private closed = false;
  /** Handshakes made so far: a reused connection does not make new ones. */
  handshakes = 0;

  constructor(
    readonly endpoint: WinrmEndpoint,
    private readonly auth: WinrmAuth,
    private readonly options: { connectTimeoutMs: number },
  ) {
    this.url = endpointUrl(endpoint);
    if (endpoint.transport === 'kerberos') {
      throw new RemoteFailure(
        ErrorType.ValidationFailed,
        `${endpoint.targetName} asks for Kerberos, which this executor does not support; use ntlm, basic over https or certificate`,
      );
    }
    if (auth.kind === 'certificate' && endpoint.scheme !== 'https') {
      throw new RemoteFailure(
        ErrorType.ValidationFailed,
        `${endpoint.targetName}: certificate authentication needs https`,
      );
    }
    const agentOptions = { keepAlive: true, maxSockets: 1, maxFreeSockets: 1, timeout: 120_000 };
    this.agent =
      endpoint.scheme === 'https'
        ? new https.Agent({
            ...agentOptions,
            rejectUnauthorized: endpoint.verifyCertificate,
            ...(endpoint.caCertificate && { ca: endpoint.caCertificate }),
            ...(auth.kind === 'certificate' && { cert: auth.certificate, key: auth.privateKey }),
          })
        : new http.Agent(agentOptions);
  }

  private get encrypts(): boolean {
    return this.auth.kind === 'ntlm' && this.endpoint.scheme === 'http';
  }

  private where(): string {
    return `${this.endpoint.targetName} (${this.url})`;
  }

  /**
   * Sends one SOAP message and returns the SOAP answer. A WS-Management fault is thrown as
   * `WsmanFaultError`; authentication and transport faults as classified `RemoteFailure`s.
   */
  async post(soap: string, timeoutMs: number, signal?: AbortSignal): Promise<string> {
    if (this.closed) throw new RemoteFailure(ErrorType.ConnectionLost, `the connection to ${this.where()} is closed`);
    const body = Buffer.from(soap, 'utf8');
    for (let attempt = 0; ; attempt++) {
      if (this.auth.kind === 'ntlm' && !this.isAuthenticated()) await this.authenticate(timeoutMs, signal);
      const res = await this.send(this.requestBody(body), this.requestHeaders(body), timeoutMs, signal);
      if (res.status === 401 && this.auth.kind === 'ntlm' && attempt === 0 && res.socket !== this.authenticatedSocket) {
        // The server closed the authenticated connection between requests: authenticate a new one.
        this.session = null;
        continue;
      }
      return this.readResponse(res);
    }
  }

  private isAuthenticated(): boolean {
    return this.session !== null && this.authenticatedSocket !== null && !this.authenticatedSocket.destroyed;
  }

  private requestHeaders(body: Buffer): http.OutgoingHttpHeaders {
    const headers: http.OutgoingHttpHeaders = { 'Content-Type': SOAP_CONTENT_TYPE, Connection: 'Keep-Alive' };
    if (this.auth.kind === 'basic') {
      headers.Authorization = `Basic ${Buffer.from(`${this.auth.user}:${this.auth.password}`, 'utf8').toString('base64')}`;
    } else if (this.auth.kind === 'certificate') {
      headers.Authorization = CERTIFICATE_AUTH;
    }
    if (this.encrypts && body.length > 0) headers['Content-Type'] = ENCRYPTED_CONTENT_TYPE;
    return headers;
  }

  private requestBody(body: Buffer): Buffer {
    if (!this.encrypts || body.length === 0) return body;
    if (!this.session) throw new Error('encrypting without a session');
    return encryptMessage(this.session, body);
  }

  /** NTLM over HTTP: NEGOTIATE, the server's CHALLENGE on a 401, then AUTHENTICATE with an empty body. */
  private async authenticate(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.auth.kind !== 'ntlm') return;
    this.session = null;
    const client = new NtlmClient({ user: this.auth.user, domain: this.auth.domain, password: this.auth.password });
    const negotiate = await this.send(
      Buffer.alloc(0),
      { Authorization: `Negotiate ${client.negotiate().toString('base64')}`, 'Content-Length': 0 },
      timeoutMs,
      signal,
    );
    const offered = [negotiate.headers['www-authenticate'] ?? []].flat().join(', ');
    const challenge = /(?:^|,\s*)(?:Negotiate|NTLM) ([A-Za-z0-9+/=]+)/.exec(offered)?.[1];
    if (negotiate.status !== 401 || !challenge) {
      if (negotiate.status === 401)
        throw new RemoteFailure(
          ErrorType.AuthFailed,
          `${this.where()} does not offer NTLM (it offers: ${offered || 'nothing'})`,
        );
      throw new RemoteFailure(
        ErrorType.ConnectionLost,
        `${this.where()} answered the NTLM negotiation with HTTP ${negotiate.status}`,
      );
    }
    let authenticated: ReturnType<NtlmClient['authenticate']>;
    try {
      authenticated = client.authenticate(Buffer.from(challenge, 'base64'));
    } catch (err) {
      throw new RemoteFailure(
        ErrorType.ConnectionLost,
        `${this.where()} sent an NTLM challenge that cannot be read: ${(err as Error).message}`,
      );
    }
    const res = await this.send(
      Buffer.alloc(0),
      { Authorization: `Negotiate ${authenticated.message.toString('base64')}`, 'Content-Length': 0 },
      timeoutMs,
      signal,
    );
    if (res.status === 401)
      throw new RemoteFailure(
        ErrorType.AuthFailed,
        `${this.where()} refused the credentials of ${this.auth.domain}\\${this.auth.user} (NTLM)`,
      );
    if (res.status !== 200)
      throw new RemoteFailure(
        ErrorType.ConnectionLost,
        `${this.where()} answered the NTLM authentication with HTTP ${res.status}`,
      );
    if (res.socket !== negotiate.socket)
      throw new RemoteFailure(
        ErrorType.ConnectionLost,
        `${this.where()} closed the connection during the NTLM handshake`,
      );
    this.session = authenticated.session;
    this.authenticatedSocket = res.socket;
    this.handshakes += 1;
  }

  private readResponse(res: RawResponse): string {
    if (res.status === 401) {
      const user = this.auth.kind === 'certificate' ? 'the client certificate' : `the credentials of ${this.auth.user}`;
      const plainBasic =
        this.auth.kind === 'basic' && this.endpoint.scheme === 'http'
          ? ' (Windows refuses Basic over plain HTTP unless AllowUnencrypted is set; use https)'
          : '';
      throw new RemoteFailure(ErrorType.AuthFailed, `${this.where()} refused ${user}${plainBasic}`);
    }
    let body = res.body;
    if (isEncryptedContentType(res.headers['content-type'])) {
      if (!this.session)
        throw new RemoteFailure(
          ErrorType.ConnectionLost,
          `${this.where()} sent an encrypted answer on a connection without a session`,
        );
      try {
        body = decryptMessage(this.session, body);
      } catch (err) {
        throw new RemoteFailure(
          ErrorType.ConnectionLost,
          `the answer of ${this.where()} could not be decrypted: ${(err as Error).message}`,
        );
      }
    } else if (this.encrypts && body.length > 0) {
      throw new RemoteFailure(
        ErrorType.ConnectionLost,
        `${this.where()} answered in clear text on an encrypted connection`,
      );
    }
    const text = body.toString('utf8');
    if (res.status === 200) return text;
    if (res.status === 500 && text.length > 0) {
      let fault: WsmanFault | null = null;
      try {
        fault = parseFault(text);
      } catch (err) {
        if (!(err instanceof SoapParseError)) throw err;
      }
      if (fault) throw new WsmanFaultError(fault, this.where());
    }
    const type = res.status === 503 || res.status === 500 ? ErrorType.Unavailable : ErrorType.ConnectionLost;
    throw new RemoteFailure(
      type,
      `${this.where()} answered HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
    );
  }

  private send(
    body: Buffer,
    headers: http.OutgoingHttpHeaders,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<RawResponse> {
    return new Promise<RawResponse>((resolve, reject) => {
      if (signal?.aborted) return reject(new RemoteFailure(ErrorType.Cancelled, 'cancelled'));
      const url = new URL(this.url);
      const request = (this.endpoint.scheme === 'https' ? https : http).request({
        host: this.endpoint.host,
        port: this.endpoint.port,
        path: url.pathname,
        method: 'POST',
        agent: this.agent,
        headers: { ...headers, 'Content-Length': body.length },
      });
      this.inFlight = request;
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (err: Error | null, res?: RawResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.inFlight = null;
        if (err) reject(err);
        else resolve(res as RawResponse);
      };
      const fail = (failure: RemoteFailure) => () => {
        request.destroy();
        finish(failure);
      };
      // Connecting has its own, shorter limit, so a host that is down is known quickly; then the request's own.
      timer = setTimeout(
        fail(
          new RemoteFailure(
            ErrorType.HostUnreachable,
            `${this.where()} did not accept a connection within ${Math.round(this.options.connectTimeoutMs / 1000)}s`,
          ),
        ),
        this.options.connectTimeoutMs,
      );
      const onAbort = fail(new RemoteFailure(ErrorType.Cancelled, 'cancelled'));
      signal?.addEventListener('abort', onAbort, { once: true });
      request.on('socket', (socket: Socket) => {
        const connected = () => {
          clearTimeout(timer);
          if (!settled)
            timer = setTimeout(
              fail(
                new RemoteFailure(
                  ErrorType.Timeout,
                  `${this.where()} did not answer within ${Math.round(timeoutMs / 1000)}s`,
                ),
              ),
              timeoutMs,
            );
        };
        if (socket.connecting) socket.once(this.endpoint.scheme === 'https' ? 'secureConnect' : 'connect', connected);
        else connected();
      });
      request.on('response', (res) => {
        // A keep-alive agent takes the socket back (res.socket = null) before 'end' handlers run.
        const socket = res.socket;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          finish(null, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), socket }),
        );
        res.on('error', (err) => finish(this.classify(err)));
      });
      request.on('error', (err) => finish(this.classify(err)));
      request.end(body);
    });
  }

  private classify(err: Error & { code?: string }): RemoteFailure {
    if (err instanceof RemoteFailure) return err;
    const code = err.code ?? '';
    if (UNREACHABLE_CODES.has(code))
      return new RemoteFailure(ErrorType.HostUnreachable, `${this.where()} is unreachable (${code})`);
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT_ALTNAME/.test(code)) {
      return new RemoteFailure(
        ErrorType.AuthFailed,
        `the TLS certificate of ${this.where()} is not trusted (${code}); give the target's caCertificate or fix its certificate`,
      );
    }
    return new RemoteFailure(
      ErrorType.ConnectionLost,
      `the connection to ${this.where()} failed: ${code || err.message}`,
    );
  }

  /** Drops the request in flight (its socket with it) and every idle socket. */
  close(): void {
    this.closed = true;
    this.inFlight?.destroy();
    this.agent.destroy();
    this.session = null;
  }

  /** Abandons the request in flight; the next request opens (and authenticates) a new connection. */
  interrupt(): void {
    this.inFlight?.destroy();
    this.session = null;
  }
}
