import { XMLParser } from 'fast-xml-parser';
import { COMMAND_DONE } from './soap.js';

/** Parses what a WS-Management server answers: shell and command ids, output chunks, faults. */
const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name) => name === 'Stream' || name === 'Selector',
  processEntities: true,
});

type Node = Record<string, unknown>;
const obj = (value: unknown): Node => (value !== null && typeof value === 'object' ? (value as Node) : {});
const text = (value: unknown): string =>
  typeof value === 'string'
    ? value
    : typeof value === 'object' && value !== null
      ? String((value as Node)['#text'] ?? '')
      : '';

export class SoapParseError extends Error {}

const body = (xml: string): Node => {
  let doc: Node;
  try {
    doc = obj(parser.parse(xml));
  } catch (err) {
    throw new SoapParseError(`not XML: ${(err as Error).message}`);
  }
  const envelope = obj(doc.Envelope);
  if (!('Body' in envelope)) throw new SoapParseError('not a SOAP envelope');
  return obj(envelope.Body);
};

/** The WS-Management fault in a response, if it is one (MS-WSMV 2.2.4.43). */
export interface WsmanFault {
  /** The WSManFault code, e.g. 2150858793 for the operation timeout; null when the fault has none. */
  code: string | null;
  subcode: string | null;
  reason: string;
  message: string;
}

/** WinRM's "operation timed out" on a Receive: nothing to report yet, ask again. */
export const OPERATION_TIMEOUT_CODE = '2150858793';

export const parseFault = (xml: string): WsmanFault | null => {
  const fault = obj(body(xml).Fault);
  if (Object.keys(fault).length === 0) return null;
  const code = obj(fault.Code);
  const detail = obj(obj(fault.Detail).WSManFault);
  const reasonText = obj(fault.Reason).Text;
  return {
    code: typeof detail['@_Code'] === 'string' ? detail['@_Code'] : null,
    subcode: text(obj(code.Subcode).Value) || null,
    reason: text(Array.isArray(reasonText) ? reasonText[0] : reasonText),
    message: text(detail.Message) || text(Array.isArray(reasonText) ? reasonText[0] : reasonText),
  };
};

export const parseShellId = (xml: string): string => {
  const b = body(xml);
  const direct = text(obj(b.Shell).ShellId);
  if (direct) return direct;
  const selectors = obj(obj(obj(b.ResourceCreated).ReferenceParameters).SelectorSet).Selector;
  const shell = (Array.isArray(selectors) ? selectors : []).find((s) => obj(s)['@_Name'] === 'ShellId');
  const id = text(shell);
  if (!id) throw new SoapParseError('the Create response carries no ShellId');
  return id;
};

export const parseCommandId = (xml: string): string => {
  const id = text(obj(body(xml).CommandResponse).CommandId);
  if (!id) throw new SoapParseError('the Command response carries no CommandId');
  return id;
};

export interface ReceiveResult {
  stdout: Buffer;
  stderr: Buffer;
  done: boolean;
  exitCode: number | null;
}

export const parseReceive = (xml: string): ReceiveResult => {
  const response = obj(body(xml).ReceiveResponse);
  const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  for (const stream of (response.Stream as unknown[] | undefined) ?? []) {
    const name = obj(stream)['@_Name'];
    if (name === 'stdout' || name === 'stderr') chunks[name].push(Buffer.from(text(stream), 'base64'));
  }
  const state = obj(response.CommandState);
  const done = state['@_State'] === COMMAND_DONE;
  const exit = text(state.ExitCode);
  return {
    stdout: Buffer.concat(chunks.stdout),
    stderr: Buffer.concat(chunks.stderr),
    done,
    exitCode: done && exit !== '' ? Number(exit) : null,
  };
};
