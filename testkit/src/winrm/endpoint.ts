import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import {
  decryptMessage,
  encryptMessage,
  ENCRYPTED_CONTENT_TYPE,
  isEncryptedContentType,
  type NtlmSession,
} from '@opsc/activities/execution';
import { Faults, WsmanFault } from './faults.js';
import { authenticate, offers, type Account, type ConnectionAuth } from './http-auth.js';
import { ShellTable } from './shells.js';
import { faultEnvelope } from './soap-reply.js';
import { parseSoapRequest, type SoapRequest } from './soap-request.js';
import type { EndpointOptions } from './win-host-options.js';
import type { WinHost } from './win-host.js';
import { handleWsman } from './wsman.js';

/**
 * One host's WinRM listeners: HTTP and HTTPS on its own loopback address, path /wsman. HTTP carries
 * SOAP sealed with the connection's NTLM session (MS-WSMV 2.2.9.1); plain SOAP over HTTP is refused
 * unless the host allows unencrypted traffic, as Windows' AllowUnencrypted=false does.
 */

export interface EndpointStats {
  requests: number;
  openShells: number;
  shellsCreated: number;
  authentications: { ntlm: number; basic: number; certificate: number };
  encryptedRequests: number;
  /** WSManFault code -> how many times it was answered. */
  faults: Record<string, number>;
}

export interface EndpointTls {
  certificate: string;
  privateKey: string;
  ca: string;
}

/** Bodies past this are refused before any parsing; WinRM's own ceiling is far lower. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** HTTP.sys keeps an idle connection two minutes; NTLM state lives as long as the connection. */
const KEEP_ALIVE_MS = 120_000;

const readBody = (req: IncomingMessage): Promise<Buffer | null> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.once('end', () => resolve(size <= MAX_BODY_BYTES ? Buffer.concat(chunks) : null));
    req.once('error', reject);
  });

export class WinrmEndpoint {
  readonly shells: ShellTable;
  readonly stats: Omit<EndpointStats, 'openShells' | 'shellsCreated'> = {
    requests: 0,
    authentications: { ntlm: 0, basic: 0, certificate: 0 },
    encryptedRequests: 0,
    faults: {},
  };
  /** Requests still to fail on purpose. */
  failNext: number;
  private readonly connections = new WeakMap<Socket, ConnectionAuth>();
  private readonly sockets = new Set<Socket>();
  private servers: Server[] = [];

  constructor(
    private readonly host: WinHost,
    private readonly options: EndpointOptions,
    private readonly account: Account,
    private readonly tls: EndpointTls,
  ) {
    this.shells = new ShellTable(host, options.shellIdleTimeoutMs);
    this.failNext = options.failNextRequests;
  }

  get listening(): boolean {
    return this.servers.length > 0;
  }

  snapshot(): EndpointStats {
    return {
      ...this.stats,
      authentications: { ...this.stats.authentications },
      faults: { ...this.stats.faults },
      openShells: this.shells.open,
      shellsCreated: this.shells.created,
    };
  }

  private track(server: Server): Server {
    server.keepAliveTimeout = KEEP_ALIVE_MS;
    server.headersTimeout = KEEP_ALIVE_MS + 5_000;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    return server;
  }

  /** Listens on both ports (0 = ephemeral) and resolves the ports actually bound. */
  async listen(ports: { http: number; https: number }): Promise<{ http: number; https: number }> {
    const address = this.host.identity.address;
    const http = this.track(createHttpServer((req, res) => this.serve(req, res, false)));
    const https = this.track(
      createHttpsServer(
        {
          key: this.tls.privateKey,
          cert: this.tls.certificate,
          ca: this.tls.ca,
          requestCert: true,
          rejectUnauthorized: false,
        },
        (req, res) => this.serve(req, res, true),
      ),
    );
    this.servers = [http, https];
    const bind = (server: Server, port: number) =>
      new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: address, port, exclusive: true }, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    try {
      return { http: await bind(http, ports.http), https: await bind(https, ports.https) };
    } catch (err) {
      await this.close();
      throw new Error(
        `cannot listen on ${address} (http ${ports.http}, https ${ports.https}): ${(err as Error).message}`,
      );
    }
  }

  /** Host down: both listeners closed, every connection cut, every shell and its commands gone. */
  async close(): Promise<void> {
    const closing = this.servers.map(
      (server) => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())),
    );
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.servers = [];
    this.shells.closeAll();
    await Promise.all(closing);
  }

  private serve(req: IncomingMessage, res: ServerResponse, secure: boolean): void {
    this.handle(req, res, secure).catch((err: unknown) => {
      if (req.socket.destroyed) return;
      if (!res.headersSent)
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`internal error: ${(err as Error).message}`);
      else res.destroy();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse, secure: boolean): Promise<void> {
    const body = await readBody(req);
    this.stats.requests++;
    const text = (status: number, message: string, headers: Record<string, string | string[]> = {}): void => {
      res
        .writeHead(status, {
          ...headers,
          'Content-Type': 'text/plain; charset=utf-8',
          'Content-Length': Buffer.byteLength(message),
          Server: 'Microsoft-HTTPAPI/2.0',
        })
        .end(message);
    };
    if (body === null) return text(413, 'Request Entity Too Large');
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0]?.toLowerCase() !== '/wsman')
      return text(404, 'Not Found');

    let conn = this.connections.get(req.socket);
    if (!conn) this.connections.set(req.socket, (conn = {}));
    const auth = authenticate(req, conn, this.account, this.options.auth, secure);
    if (auth.kind === 'challenge') return text(401, '', { 'WWW-Authenticate': auth.header });
    if (auth.kind === 'reject') return text(401, '', { 'WWW-Authenticate': offers(this.options.auth) });
    if (auth.method !== 'connection') this.stats.authentications[auth.method]++;

    const encrypted = isEncryptedContentType(req.headers['content-type']);
    let soap: Buffer = body;
    let session: NtlmSession | undefined;
    if (encrypted) {
      session = auth.session;
      if (!session) return text(400, 'an encrypted body needs an NTLM-authenticated connection');
      try {
        soap = decryptMessage(session, body);
      } catch (err) {
        return text(400, `cannot decrypt the request: ${(err as Error).message}`);
      }
      this.stats.encryptedRequests++;
    }
    // pywinrm's setup_encryption: an authenticated empty POST that only establishes the context.
    if (soap.length === 0) return text(200, '');
    if (!encrypted && !secure && !this.options.allowUnencrypted)
      return text(401, 'Unencrypted traffic is refused: AllowUnencrypted is false on this WinRM service.');

    const { status, xml } = await this.soap(soap.toString('utf8'), auth.user, req);
    let out: Buffer = Buffer.from(xml, 'utf8');
    let contentType = 'application/soap+xml;charset=UTF-8';
    if (session) {
      out = encryptMessage(session, out);
      contentType = ENCRYPTED_CONTENT_TYPE;
    }
    res
      .writeHead(status, { 'Content-Type': contentType, 'Content-Length': out.length, Server: 'Microsoft-HTTPAPI/2.0' })
      .end(out);
  }

  private async soap(xml: string, user: string, req: IncomingMessage): Promise<{ status: number; xml: string }> {
    let parsed: SoapRequest | undefined;
    const gone = new AbortController();
    const onClose = () => gone.abort();
    req.socket.once('close', onClose);
    try {
      parsed = parseSoapRequest(xml);
      const size = Buffer.byteLength(xml);
      if (size > parsed.maxEnvelopeSize) throw Faults.envelopeTooLarge(size, parsed.maxEnvelopeSize);
      if (this.failNext > 0) {
        this.failNext--;
        throw Faults.injected();
      }
      const { address, port } = req.socket.address() as AddressInfo;
      const reply = await handleWsman(parsed, {
        shells: this.shells,
        maxShells: this.options.maxShells,
        receiveChunkBytes: this.options.receiveChunkBytes,
        user,
        endpointUrl: `${'encrypted' in req.socket ? 'https' : 'http'}://${address}:${port}/wsman`,
        clientAddress: req.socket.remoteAddress ?? '',
        signal: gone.signal,
      });
      return { status: 200, xml: reply };
    } catch (err) {
      if (!(err instanceof WsmanFault)) throw err;
      this.stats.faults[err.code] = (this.stats.faults[err.code] ?? 0) + 1;
      return { status: 500, xml: faultEnvelope(err, parsed?.messageId, this.host.identity.address) };
    } finally {
      req.socket.off('close', onClose);
    }
  }
}
