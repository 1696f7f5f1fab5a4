import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from '@opsc/dev';
import { freePort } from './free-port.js';

/** One POST a receiver answered, with what it checked. */
export interface Received {
  path: string;
  body: Record<string, unknown>;
  /** The webhook's HMAC signature matched (generic webhooks only). */
  signed: boolean;
  eventId: string | undefined;
}

/**
 * A webhook and Slack receiver on loopback, as a real one would check: the generic webhook's
 * `v1=` HMAC-SHA256 over `<timestamp>.<body>` with the channel's secret, Slack's `text` and blocks.
 * It can go down and come back on the same port, or hold requests unanswered (to kill a sender mid-request).
 */
export class HttpReceiver {
  readonly answered: Received[] = [];
  /** Requests that arrived, answered or not. */
  arrivals = 0;
  hold = false;
  private server: http.Server | null = null;
  private readonly held: http.ServerResponse[] = [];

  private constructor(
    readonly port: number,
    private readonly secret: string,
  ) {}

  static async start(secret: string): Promise<HttpReceiver> {
    const receiver = new HttpReceiver(await freePort(), secret);
    await receiver.up();
    return receiver;
  }

  get isUp(): boolean {
    return this.server !== null;
  }

  url(pathName: string): string {
    return `http://127.0.0.1:${this.port}${pathName}`;
  }

  async up(): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.arrivals++;
        if (this.hold) {
          this.held.push(res);
          return;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        const timestamp = String(req.headers['x-opsc-timestamp'] ?? '');
        const expected = `v1=${createHmac('sha256', this.secret).update(`${timestamp}.${raw}`).digest('hex')}`;
        const given = Buffer.from(String(req.headers['x-opsc-signature'] ?? ''));
        const signed =
          given.length === expected.length &&
          timingSafeEqual(given, Buffer.from(expected)) &&
          Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
        this.answered.push({
          path: req.url ?? '',
          body: (raw && String(req.headers['content-type']).startsWith('application/json')
            ? JSON.parse(raw)
            : {}) as Record<string, unknown>,
          signed,
          eventId: req.headers['x-opsc-event-id'] as string | undefined,
        });
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const res of this.held.splice(0)) res.destroy();
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  /** Lets held requests go (they were cut off by their sender, or are answered now). */
  release(): void {
    this.hold = false;
    for (const res of this.held.splice(0)) res.destroy();
  }
}

export interface Mail {
  from: string;
  to: string[];
  tls: boolean;
  user: string | null;
  data: string;
}

/**
 * A real SMTP server (Python's aiosmtpd, tests/python/smtp_server.py) on loopback: STARTTLS with a
 * certificate made now with openssl, AUTH required after it, one user and password.
 */
export class SmtpServer {
  readonly mails: Mail[] = [];
  private constructor(
    readonly port: number,
    readonly caPem: string,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {}

  static async start(user: string, password: string): Promise<SmtpServer> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'opsc-smtp-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    writeFileSync(path.join(dir, 'password'), password, { mode: 0o600 });
    const port = await freePort();
    const child = spawn(
      path.join(REPO_ROOT, '.venv/bin/python'),
      [
        path.join(REPO_ROOT, 'tests/python/smtp_server.py'),
        String(port),
        path.join(dir, 'cert.pem'),
        path.join(dir, 'key.pem'),
        user,
        path.join(dir, 'password'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const server = new SmtpServer(port, readFileSync(path.join(dir, 'cert.pem'), 'utf8'), child, dir);
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the SMTP server exited (${code}): ${stderr}`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const parsed = JSON.parse(line) as Mail & { ready?: number };
        if (parsed.ready) resolve();
        else server.mails.push(parsed);
      });
    });
    return server;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.pid) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      process.kill(this.child.pid, 'SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
