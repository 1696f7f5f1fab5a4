import { randomUUID } from 'node:crypto';

/**
 * WS-Management requests for the Windows Remote Shell (MS-WSMV 3.1.4): Create a shell, run a
 * Command, Send stdin, Receive output, Signal, Delete. Every value is XML-escaped.
 */
export const NS = {
  s: 'http://www.w3.org/2003/05/soap-envelope',
  wsa: 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
  wsman: 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd',
  rsp: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell',
  p: 'http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd',
} as const;

export const Action = {
  create: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Create',
  delete: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete',
  command: `${NS.rsp}/Command`,
  send: `${NS.rsp}/Send`,
  receive: `${NS.rsp}/Receive`,
  signal: `${NS.rsp}/Signal`,
} as const;

export const SHELL_RESOURCE = `${NS.rsp}/cmd`;
export const Signal = { terminate: `${NS.rsp}/signal/terminate`, ctrlC: `${NS.rsp}/signal/ctrl_c` } as const;
export const COMMAND_DONE = `${NS.rsp}/CommandState/Done`;
/** UTF-8, so output needs no code-page guessing. */
export const UTF8_CODEPAGE = 65001;

export const xmlEscape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);

export interface EnvelopeOptions {
  /** The endpoint URL (wsa:To). */
  to: string;
  maxEnvelopeSize: number;
  /** Seconds the server may hold a Receive before answering with the operation-timeout fault. */
  operationTimeoutSeconds: number;
  shellId?: string;
  options?: Record<string, string>;
  messageId?: string;
}

const envelope = (action: string, body: string, o: EnvelopeOptions): string => {
  const selector = o.shellId
    ? `<wsman:SelectorSet><wsman:Selector Name="ShellId">${xmlEscape(o.shellId)}</wsman:Selector></wsman:SelectorSet>`
    : '';
  const options = o.options
    ? `<wsman:OptionSet>${Object.entries(o.options)
        .map(([name, value]) => `<wsman:Option Name="${xmlEscape(name)}">${xmlEscape(value)}</wsman:Option>`)
        .join('')}</wsman:OptionSet>`
    : '';
  return (
    `<?xml version="1.0" encoding="utf-8"?>` +
    `<s:Envelope xmlns:s="${NS.s}" xmlns:wsa="${NS.wsa}" xmlns:wsman="${NS.wsman}" xmlns:rsp="${NS.rsp}" xmlns:p="${NS.p}">` +
    `<s:Header>` +
    `<wsa:To>${xmlEscape(o.to)}</wsa:To>` +
    `<wsa:ReplyTo><wsa:Address s:mustUnderstand="true">${NS.wsa}/role/anonymous</wsa:Address></wsa:ReplyTo>` +
    `<wsman:ResourceURI s:mustUnderstand="true">${SHELL_RESOURCE}</wsman:ResourceURI>` +
    `<wsa:Action s:mustUnderstand="true">${action}</wsa:Action>` +
    `<wsman:MaxEnvelopeSize s:mustUnderstand="true">${o.maxEnvelopeSize}</wsman:MaxEnvelopeSize>` +
    `<wsa:MessageID>uuid:${o.messageId ?? randomUUID().toUpperCase()}</wsa:MessageID>` +
    `<wsman:Locale xml:lang="en-US" s:mustUnderstand="false"/>` +
    `<p:DataLocale xml:lang="en-US" s:mustUnderstand="false"/>` +
    `<wsman:OperationTimeout>PT${o.operationTimeoutSeconds}S</wsman:OperationTimeout>` +
    selector +
    options +
    `</s:Header>` +
    `<s:Body>${body}</s:Body>` +
    `</s:Envelope>`
  );
};

type Base = Omit<EnvelopeOptions, 'shellId' | 'options'>;

export const createShellRequest = (o: Base & { workingDirectory?: string }): string =>
  envelope(
    Action.create,
    `<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams>` +
      (o.workingDirectory ? `<rsp:WorkingDirectory>${xmlEscape(o.workingDirectory)}</rsp:WorkingDirectory>` : '') +
      `</rsp:Shell>`,
    { ...o, options: { WINRS_NOPROFILE: 'TRUE', WINRS_CODEPAGE: String(UTF8_CODEPAGE) } },
  );

export const commandRequest = (o: Base & { shellId: string; command: string; args: string[] }): string =>
  envelope(
    Action.command,
    `<rsp:CommandLine><rsp:Command>${xmlEscape(o.command)}</rsp:Command>${o.args.map((a) => `<rsp:Arguments>${xmlEscape(a)}</rsp:Arguments>`).join('')}</rsp:CommandLine>`,
    { ...o, options: { WINRS_CONSOLEMODE_STDIN: 'TRUE', WINRS_SKIP_CMD_SHELL: 'FALSE' } },
  );

export const sendRequest = (o: Base & { shellId: string; commandId: string; data: Buffer; end: boolean }): string =>
  envelope(
    Action.send,
    `<rsp:Send><rsp:Stream Name="stdin" CommandId="${xmlEscape(o.commandId)}"${o.end ? ' End="true"' : ''}>${o.data.toString('base64')}</rsp:Stream></rsp:Send>`,
    o,
  );

export const receiveRequest = (o: Base & { shellId: string; commandId: string }): string =>
  envelope(
    Action.receive,
    `<rsp:Receive><rsp:DesiredStream CommandId="${xmlEscape(o.commandId)}">stdout stderr</rsp:DesiredStream></rsp:Receive>`,
    o,
  );

export const signalRequest = (o: Base & { shellId: string; commandId: string; code: string }): string =>
  envelope(
    Action.signal,
    `<rsp:Signal CommandId="${xmlEscape(o.commandId)}"><rsp:Code>${xmlEscape(o.code)}</rsp:Code></rsp:Signal>`,
    o,
  );

export const deleteShellRequest = (o: Base & { shellId: string }): string => envelope(Action.delete, '', o);
