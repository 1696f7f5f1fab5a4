import { Faults, raise } from './faults.js';
import type { ShellCommand, ShellTable, Shell } from './shells.js';
import { Actions, CommandState, replyEnvelope, SHELL_URI, SignalCode, xmlEscape } from './soap-reply.js';
import { attr, node, nodes, text, type SoapRequest } from './soap-request.js';

/**
 * The Windows Remote Shell over WS-Management (MS-WSMV 3.1.4.x): Create, Command, Send, Receive,
 * Signal, Delete against a host's shell table. Answers are whole envelopes that fit the request's
 * MaxEnvelopeSize; problems are thrown as WsmanFaults.
 */

export interface WsmanContext {
  shells: ShellTable;
  maxShells: number;
  receiveChunkBytes: number;
  /** The authenticated account (rsp:Owner). */
  user: string;
  endpointUrl: string;
  clientAddress: string;
  /** Aborts when the client's connection closes, so a Receive stops waiting for nobody. */
  signal: AbortSignal;
}

/** Output waits this long for more before a Receive answers, so a chatty command is not one line per response. */
const COALESCE_MS = 40;
/** A response holds at most this many full streams' worth of output: big output takes several Receives. */
const STREAMS_PER_RESPONSE = 8;

const shellOf = (req: SoapRequest, ctx: WsmanContext): Shell => {
  const id = req.selectors.ShellId ?? '';
  return ctx.shells.get(id) ?? raise(Faults.shellNotFound(id));
};

const commandOf = (shell: Shell, commandId: string | undefined): ShellCommand => {
  if (!commandId) throw Faults.invalidRequest('the request names no CommandId');
  return shell.command(commandId) ?? raise(Faults.commandNotFound(shell.id, commandId));
};

const create = (req: SoapRequest, ctx: WsmanContext): string => {
  if (ctx.shells.open >= ctx.maxShells) throw Faults.maxShells(ctx.maxShells);
  const shell = ctx.shells.create(req.options.WINRS_CODEPAGE === '65001', ctx.user);
  const id = xmlEscape(shell.id);
  return replyEnvelope(
    `${Actions.create}Response`,
    req.messageId,
    `<x:ResourceCreated><a:Address>${xmlEscape(ctx.endpointUrl)}</a:Address><a:ReferenceParameters><w:ResourceURI>${SHELL_URI}</w:ResourceURI>` +
      `<w:SelectorSet><w:Selector Name="ShellId">${id}</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>` +
      `<rsp:Shell><rsp:ShellId>${id}</rsp:ShellId><rsp:ResourceUri>${SHELL_URI}</rsp:ResourceUri><rsp:Owner>${xmlEscape(shell.owner)}</rsp:Owner>` +
      `<rsp:ClientIP>${xmlEscape(ctx.clientAddress)}</rsp:ClientIP><rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut><rsp:InputStreams>stdin</rsp:InputStreams>` +
      `<rsp:OutputStreams>stdout stderr</rsp:OutputStreams><rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime><rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity></rsp:Shell>`,
  );
};

const command = (req: SoapRequest, ctx: WsmanContext): string => {
  const shell = shellOf(req, ctx);
  const line = node(req.body.CommandLine);
  const program = text(line.Command);
  if (!program) throw Faults.invalidRequest('the CommandLine has no Command');
  // WinRS joins Command and Arguments with spaces, unquoted, into the command line cmd.exe gets.
  const commandLine = [program, ...nodes(line.Arguments).map(text)].join(' ');
  const started = shell.run(commandLine, attr(req.body.CommandLine, 'CommandId'));
  return replyEnvelope(
    `${Actions.command}Response`,
    req.messageId,
    `<rsp:CommandResponse><rsp:CommandId>${xmlEscape(started.id)}</rsp:CommandId></rsp:CommandResponse>`,
  );
};

const send = (req: SoapRequest, ctx: WsmanContext): string => {
  const shell = shellOf(req, ctx);
  for (const stream of nodes(node(req.body.Send).Stream)) {
    const target = commandOf(shell, attr(stream, 'CommandId'));
    target.stdin.push(Buffer.from(text(stream), 'base64'), attr(stream, 'End')?.toLowerCase() === 'true');
  }
  return replyEnvelope(`${Actions.send}Response`, req.messageId, '<rsp:SendResponse/>');
};

const receive = async (req: SoapRequest, ctx: WsmanContext): Promise<string> => {
  const shell = shellOf(req, ctx);
  const cmd = commandOf(shell, attr(node(req.body.Receive).DesiredStream, 'CommandId'));
  const perResponse = ctx.receiveChunkBytes * STREAMS_PER_RESPONSE;
  if (!(await cmd.waitFor(() => cmd.pending > 0 || cmd.done, req.operationTimeoutMs, ctx.signal))) {
    if (ctx.signal.aborted) throw new Error('the client went away during a Receive');
    throw Faults.operationTimeout();
  }
  await cmd.waitFor(() => cmd.done || cmd.pending >= perResponse, COALESCE_MS, ctx.signal);
  const done = cmd.done;
  const id = xmlEscape(cmd.id);
  const stream = (name: string, b64: string, end = false) =>
    `<rsp:Stream Name="${name}" CommandId="${id}"${end ? ' End="true"' : ''}>${b64}</rsp:Stream>`;
  const state = (finished: boolean) =>
    finished
      ? `${stream('stdout', '', true)}${stream('stderr', '', true)}<rsp:CommandState CommandId="${id}" State="${CommandState.done}"><rsp:ExitCode>${cmd.exitCode}</rsp:ExitCode></rsp:CommandState>`
      : `<rsp:CommandState CommandId="${id}" State="${CommandState.running}"/>`;
  const envelope = (streams: string, finished: boolean) =>
    replyEnvelope(
      `${Actions.receive}Response`,
      req.messageId,
      `<rsp:ReceiveResponse>${streams}${state(finished)}</rsp:ReceiveResponse>`,
    );
  const room = req.maxEnvelopeSize - Buffer.byteLength(envelope('', true)) - 16;
  const pieces = cmd.take({
    streamBytes: ctx.receiveChunkBytes,
    totalBytes: perResponse,
    room,
    overhead: stream('stdout', '').length,
  });
  return envelope(pieces.map((p) => stream(p.stream, p.data.toString('base64'))).join(''), done && cmd.pending === 0);
};

const signal = (req: SoapRequest, ctx: WsmanContext): string => {
  const shell = shellOf(req, ctx);
  const body = node(req.body.Signal);
  const target = commandOf(shell, attr(req.body.Signal, 'CommandId'));
  const code = text(body.Code);
  if (code === SignalCode.terminate) {
    target.terminate();
    shell.commands.delete(target.id.toUpperCase());
  } else if (code === SignalCode.ctrlC || code === SignalCode.ctrlBreak) target.terminate();
  else throw Faults.invalidRequest(`unknown signal ${code}`);
  return replyEnvelope(`${Actions.signal}Response`, req.messageId, '<rsp:SignalResponse/>');
};

const remove = (req: SoapRequest, ctx: WsmanContext): string => {
  const id = req.selectors.ShellId ?? '';
  if (!ctx.shells.delete(id)) throw Faults.shellNotFound(id);
  return replyEnvelope(`${Actions.delete}Response`, req.messageId, '');
};

const HANDLERS: Record<string, (req: SoapRequest, ctx: WsmanContext) => string | Promise<string>> = {
  [Actions.create]: create,
  [Actions.command]: command,
  [Actions.send]: send,
  [Actions.receive]: receive,
  [Actions.signal]: signal,
  [Actions.delete]: remove,
};

/** The smallest MaxEnvelopeSize Windows accepts. */
const MIN_ENVELOPE = 8192;

export const handleWsman = async (req: SoapRequest, ctx: WsmanContext): Promise<string> => {
  if (req.resourceUri.toLowerCase() !== SHELL_URI) throw Faults.resourceNotFound(req.resourceUri);
  if (req.maxEnvelopeSize < MIN_ENVELOPE)
    throw Faults.invalidHeader(`MaxEnvelopeSize ${req.maxEnvelopeSize} is below ${MIN_ENVELOPE}`);
  const handler = HANDLERS[req.action];
  if (!handler) throw Faults.actionNotSupported(req.action);
  return handler(req, ctx);
};
