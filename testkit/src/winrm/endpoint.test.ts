import { randomUUID } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decryptMessage,
  encryptMessage,
  ENCRYPTED_CONTENT_TYPE,
  NtlmClient,
  type NtlmSession,
} from '@opsc/activities/execution';
import { startWinrmFleet, type WinrmFleet, type WinrmFleetHost } from './winrm-fleet.js';

// The endpoint on the wire, driven by a minimal hand-written client (NTLM from activities, XML
// written here); pywinrm drives it independently in tests/integration/winrm-endpoint.test.ts.

const RSP = 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell';
const A = {
  create: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Create',
  delete: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete',
  command: `${RSP}/Command`,
  send: `${RSP}/Send`,
  receive: `${RSP}/Receive`,
  signal: `${RSP}/Signal`,
};

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

class Connection {
  private readonly agent: HttpAgent;
  session?: NtlmSession;
  constructor(
    private readonly host: WinrmFleetHost,
    private readonly tls?: { ca: string; cert?: string; key?: string },
  ) {
    // One socket, kept alive: NTLM authenticates the connection.
    this.agent = tls
      ? new HttpsAgent({ keepAlive: true, maxSockets: 1, ca: tls.ca, cert: tls.cert, key: tls.key })
      : new HttpAgent({ keepAlive: true, maxSockets: 1 });
  }

  post(body: Buffer, headers: Record<string, string> = {}): Promise<Reply> {
    const send = this.tls ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        {
          host: this.host.address,
          port: this.tls ? this.host.httpsPort : this.host.httpPort,
          path: '/wsman',
          method: 'POST',
          agent: this.agent,
          headers: { 'Content-Length': String(body.length), ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  async ntlm(password: string): Promise<number> {
    const client = new NtlmClient({ user: this.host.username, domain: this.host.domain, password });
    const challenge = await this.post(Buffer.alloc(0), {
      Authorization: `Negotiate ${client.negotiate().toString('base64')}`,
    });
    const token = /^Negotiate (.+)$/.exec(String(challenge.headers['www-authenticate']))?.[1];
    if (challenge.status !== 401 || !token) throw new Error(`no challenge: ${challenge.status}`);
    const { message, session } = client.authenticate(Buffer.from(token, 'base64'));
    const done = await this.post(Buffer.alloc(0), { Authorization: `Negotiate ${message.toString('base64')}` });
    if (done.status === 200) this.session = session;
    return done.status;
  }

  async soap(
    xml: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; xml: string; encrypted: boolean }> {
    const session = this.session;
    const encrypt = session && !this.tls;
    const reply = encrypt
      ? await this.post(encryptMessage(session, Buffer.from(xml)), {
          'Content-Type': ENCRYPTED_CONTENT_TYPE,
          ...headers,
        })
      : await this.post(Buffer.from(xml), { 'Content-Type': 'application/soap+xml;charset=UTF-8', ...headers });
    const encrypted = String(reply.headers['content-type']).startsWith('multipart/encrypted');
    return {
      status: reply.status,
      xml: (encrypted && session ? decryptMessage(session, reply.body) : reply.body).toString('utf8'),
      encrypted,
    };
  }

  close(): void {
    this.agent.destroy();
  }
}

const envelope = (
  action: string,
  o: {
    body?: string;
    shellId?: string;
    options?: Record<string, string>;
    maxEnvelopeSize?: number;
    timeout?: string;
    messageId?: string;
  } = {},
) =>
  `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:rsp="${RSP}"><s:Header>` +
  `<wsa:Action s:mustUnderstand="true">${action}</wsa:Action><wsman:ResourceURI s:mustUnderstand="true">${RSP}/cmd</wsman:ResourceURI>` +
  `<wsman:MaxEnvelopeSize s:mustUnderstand="true">${o.maxEnvelopeSize ?? 153600}</wsman:MaxEnvelopeSize><wsa:MessageID>${o.messageId ?? `uuid:${randomUUID()}`}</wsa:MessageID>` +
  `<wsman:OperationTimeout>${o.timeout ?? 'PT20S'}</wsman:OperationTimeout>` +
  (o.shellId
    ? `<wsman:SelectorSet><wsman:Selector Name="ShellId">${o.shellId}</wsman:Selector></wsman:SelectorSet>`
    : '') +
  (o.options
    ? `<wsman:OptionSet>${Object.entries(o.options)
        .map(([k, v]) => `<wsman:Option Name="${k}">${v}</wsman:Option>`)
        .join('')}</wsman:OptionSet>`
    : '') +
  `</s:Header><s:Body>${o.body ?? ''}</s:Body></s:Envelope>`;

const xml = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  isArray: (n) => n === 'Stream',
});
const parse = (text: string) =>
  xml.parse(text) as { Envelope: { Header: Record<string, string>; Body: Record<string, Record<string, unknown>> } };
const faultCode = (text: string) =>
  (parse(text).Envelope.Body.Fault as { Detail: { WSManFault: { '@_Code': string } } }).Detail.WSManFault['@_Code'];

const createShell = async (c: Connection, codepage = '65001') => {
  const reply = await c.soap(
    envelope(A.create, {
      options: { WINRS_CODEPAGE: codepage },
      body: '<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>',
    }),
  );
  expect(reply.status).toBe(200);
  return String((parse(reply.xml).Envelope.Body.Shell as { ShellId: string }).ShellId);
};
const runCommand = async (c: Connection, shellId: string, command: string, args: string[] = []) => {
  const reply = await c.soap(
    envelope(A.command, {
      shellId,
      body: `<rsp:CommandLine><rsp:Command>${command}</rsp:Command>${args.map((a) => `<rsp:Arguments>${a}</rsp:Arguments>`).join('')}</rsp:CommandLine>`,
    }),
  );
  expect(reply.status).toBe(200);
  return String((parse(reply.xml).Envelope.Body.CommandResponse as { CommandId: string }).CommandId);
};
const receiveBody = (commandId: string) =>
  `<rsp:Receive><rsp:DesiredStream CommandId="${commandId}">stdout stderr</rsp:DesiredStream></rsp:Receive>`;
interface ReceiveResponse {
  Stream?: { '#text'?: string; '@_Name': string }[];
  CommandState: { '@_State': string; ExitCode?: string };
}
/** Receives until Done; `check` sees every reply. */
const receiveAll = async (
  c: Connection,
  shellId: string,
  commandId: string,
  maxEnvelopeSize = 153600,
  check: (reply: { xml: string; encrypted: boolean }, messageId: string) => void = () => undefined,
) => {
  const out = { stdout: '', stderr: '', exitCode: '', responses: 0, largestStream: 0 };
  while (!out.exitCode) {
    const messageId = `uuid:${randomUUID()}`;
    const reply = await c.soap(
      envelope(A.receive, { shellId, body: receiveBody(commandId), maxEnvelopeSize, messageId }),
    );
    expect(reply.status).toBe(200);
    check(reply, messageId);
    const response = parse(reply.xml).Envelope.Body.ReceiveResponse as unknown as ReceiveResponse;
    for (const s of response.Stream ?? []) {
      const data = Buffer.from(s['#text'] ?? '', 'base64');
      out.largestStream = Math.max(out.largestStream, data.length);
      if (s['@_Name'] === 'stdout') out.stdout += data.toString();
      else out.stderr += data.toString();
    }
    if (response.CommandState['@_State'].endsWith('/Done')) out.exitCode = String(response.CommandState.ExitCode);
    out.responses++;
  }
  return out;
};
const ps = (script: string) =>
  ['powershell', ['-EncodedCommand', Buffer.from(script, 'utf16le').toString('base64')]] as const;

describe('the WinRM endpoint of a fleet host', () => {
  let fleet: WinrmFleet;
  let tls: { ca: string };
  const open: Connection[] = [];
  const connection = (host: WinrmFleetHost, t?: { ca: string; cert?: string; key?: string }) => {
    const c = new Connection(host, t);
    open.push(c);
    return c;
  };

  beforeAll(async () => {
    fleet = await startWinrmFleet({
      size: 3,
      firstOctet: 211,
      httpPort: 0,
      httpsPort: 0,
      host: (i) =>
        i === 1
          ? { allowUnencrypted: true, maxShells: 2, receiveChunkBytes: 1024 }
          : i === 2
            ? { shellIdleTimeoutMs: 1_500 }
            : {},
    });
    tls = { ca: fleet.caCertificate };
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await fleet?.stop();
  });

  it('authenticates a connection with NTLM, seals every message, and streams output over several Receives', async () => {
    const host = fleet.hosts[0] as WinrmFleetHost;
    const c = connection(host);
    expect((await c.soap(envelope(A.create))).status).toBe(401);
    expect(await c.ntlm(host.password)).toBe(200);
    const shellId = await createShell(c);
    const [program, args] = ps(
      "1..3000 | ForEach-Object { Write-Output ('x' * 40) }\nStart-Sleep -Milliseconds 300\nWrite-Output done; exit 4",
    );
    const commandId = await runCommand(c, shellId, program, [...args]);
    const result = await receiveAll(c, shellId, commandId, 51200, (reply, messageId) => {
      expect(reply.encrypted).toBe(true);
      expect(Buffer.byteLength(reply.xml)).toBeLessThanOrEqual(51200);
      expect(parse(reply.xml).Envelope.Header.RelatesTo).toBe(messageId);
    });
    expect(result).toMatchObject({
      exitCode: '4',
      stderr: '',
      stdout: `${'x'.repeat(40)}\r\n`.repeat(3000) + 'done\r\n',
    });
    expect(result.largestStream).toBeLessThanOrEqual(8192);
    expect(result.responses).toBeGreaterThanOrEqual(4);
    expect(
      (
        await c.soap(
          envelope(A.signal, {
            shellId,
            body: `<rsp:Signal CommandId="${commandId}"><rsp:Code>${RSP}/signal/terminate</rsp:Code></rsp:Signal>`,
          }),
        )
      ).status,
    ).toBe(200);
    expect((await c.soap(envelope(A.delete, { shellId }))).status).toBe(200);
    expect(fleet.stats(0)).toMatchObject({ openShells: 0, authentications: { ntlm: 1 } });
    expect(fleet.stats(0).encryptedRequests).toBe(result.responses + 4);
  });

  it('feeds stdin from Send to the command', async () => {
    const host = fleet.hosts[1] as WinrmFleetHost;
    const c = connection(host);
    await c.ntlm(host.password);
    const shellId = await createShell(c);
    const commandId = await runCommand(c, shellId, 'powershell', ['-NoProfile']);
    for (const [text, end] of [
      ["Write-Output 'from stdin'\n", false],
      ['exit 9\n', true],
    ] as const) {
      const body = `<rsp:Send><rsp:Stream Name="stdin" CommandId="${commandId}"${end ? ' End="true"' : ''}>${Buffer.from(text).toString('base64')}</rsp:Stream></rsp:Send>`;
      expect((await c.soap(envelope(A.send, { shellId, body }))).status).toBe(200);
    }
    expect(await receiveAll(c, shellId, commandId)).toMatchObject({ stdout: 'from stdin\r\n', exitCode: '9' });
    expect((await c.soap(envelope(A.delete, { shellId }))).status).toBe(200);
  });

  it('keeps a command running after its client vanished, until the shell has been idle past its timeout', async () => {
    const host = fleet.hosts[2] as WinrmFleetHost;
    const c = connection(host);
    await c.ntlm(host.password);
    const shellId = await createShell(c);
    await runCommand(c, shellId, 'powershell', ['-NoProfile']);
    const body = `<rsp:Send><rsp:Stream Name="stdin" CommandId="${fleet.commands(2)[0]?.commandId}">${Buffer.from('Write-Output 1\n').toString('base64')}</rsp:Stream></rsp:Send>`;
    expect((await c.soap(envelope(A.send, { shellId, body }))).status).toBe(200);
    c.close();
    // The client is gone; the command still waits for the rest of its stdin.
    expect(fleet.commands(2)).toEqual([
      expect.objectContaining({ shellId, stdinBytes: 15, stdinEnded: false, done: false }),
    ]);
    expect(
      fleet
        .host(2)
        .processes()
        .filter((p) => p.name === 'powershell.exe'),
    ).toHaveLength(1);
    await expect.poll(() => fleet.stats(2).openShells, { timeout: 5_000, interval: 100 }).toBe(0);
    expect(fleet.commands(2)).toEqual([]);
    expect(
      fleet
        .host(2)
        .processes()
        .filter((p) => p.name === 'powershell.exe'),
    ).toHaveLength(0);
  });

  it('refuses plain SOAP over HTTP unless the host allows unencrypted traffic, and wrong passwords', async () => {
    const [locked, open] = fleet.hosts as [WinrmFleetHost, WinrmFleetHost];
    const basic = (h: WinrmFleetHost, password: string) => ({
      Authorization: `Basic ${Buffer.from(`${h.username}:${password}`).toString('base64')}`,
    });
    const refused = await connection(locked).soap(envelope(A.create), basic(locked, locked.password));
    expect(refused.status).toBe(401);
    expect(refused.xml).toMatch(/AllowUnencrypted/);
    expect((await connection(open).soap(envelope(A.create), basic(open, open.password))).status).toBe(200);
    const wrong = await connection(open).soap(envelope(A.create), basic(open, 'wrong'));
    expect(wrong.status).toBe(401);
    expect(await connection(locked).ntlm('wrong')).toBe(401);
  });

  it('serves HTTPS with the fleet CA, Basic and certificate authentication', async () => {
    const host = fleet.hosts[0] as WinrmFleetHost;
    const auth = `Basic ${Buffer.from(`${host.hostname}\\${host.username}:${host.password}`).toString('base64')}`;
    expect((await connection(host, tls).soap(envelope(A.create), { Authorization: auth })).status).toBe(200);
    const mutual = { Authorization: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual' };
    expect((await connection(host, tls).soap(envelope(A.create), mutual)).status).toBe(401);
    const withCert = connection(host, {
      ...tls,
      cert: fleet.clientCertificate.certificate,
      key: fleet.clientCertificate.privateKey,
    });
    const created = await withCert.soap(envelope(A.create), mutual);
    expect(created.status).toBe(200);
    expect(fleet.stats(0).authentications.certificate).toBe(1);
  });

  it('answers faults as Windows does, echoing the MessageID', async () => {
    const host = fleet.hosts[1] as WinrmFleetHost;
    // A restart closes the shells earlier tests left open, so the quota below counts from zero.
    await fleet.stopHost(1);
    await fleet.startHost(1);
    const c = connection(host);
    await c.ntlm(host.password);
    const missing = await c.soap(
      envelope(A.receive, { shellId: 'NOPE', body: receiveBody('X'), messageId: 'uuid:1234' }),
    );
    expect(missing.status).toBe(500);
    expect(faultCode(missing.xml)).toBe('2150858843');
    expect(parse(missing.xml).Envelope.Header.RelatesTo).toBe('uuid:1234');

    const shellId = await createShell(c, '437');
    const [program, args] = ps('Start-Sleep -Seconds 5');
    const commandId = await runCommand(c, shellId, program, [...args]);
    const started = Date.now();
    const timedOut = await c.soap(envelope(A.receive, { shellId, body: receiveBody(commandId), timeout: 'PT0.500S' }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(faultCode(timedOut.xml)).toBe('2150858793');
    expect(timedOut.xml).toContain('<s:Subcode><s:Value>w:TimedOut</s:Value></s:Subcode>');

    await createShell(c);
    const quota = await c.soap(envelope(A.create));
    expect(faultCode(quota.xml)).toBe('2150859173');
    expect(quota.xml).toContain(
      'This user is allowed a maximum number of 2 concurrent shells, which has been exceeded.',
    );

    expect(faultCode((await c.soap('<s:Envelope><broken')).xml)).toBe('2150858819');
    expect(
      faultCode((await c.soap(envelope(A.delete, { shellId, body: 'y'.repeat(9000), maxEnvelopeSize: 8192 }))).xml),
    ).toBe('2150858824');

    fleet.failRequests(1, 2);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await c.soap(envelope(A.delete, { shellId }))).status);
    expect(statuses).toEqual([500, 500, 200]);
    expect(fleet.stats(1).faults).toMatchObject({ '2150858843': 1, '2150858793': 1, '2150859173': 1, '2150858755': 2 });
  });

  it('goes down and comes back per host, and stops for good', async () => {
    const host = fleet.hosts[1] as WinrmFleetHost;
    const reachable = () =>
      new Promise<boolean>((resolve) => {
        const socket = connect({ host: host.address, port: host.httpPort });
        socket.once('connect', () => (socket.destroy(), resolve(true)));
        socket.once('error', () => resolve(false));
      });
    await fleet.stopHost(1);
    expect(await reachable()).toBe(false);
    expect(fleet.stats(1).openShells).toBe(0);
    await fleet.startHost(1);
    expect(await reachable()).toBe(true);
  });
});
