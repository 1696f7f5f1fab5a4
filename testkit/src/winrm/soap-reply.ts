import { randomUUID } from 'node:crypto';
import type { WsmanFault } from './faults.js';
import { SOAP_NS } from './soap-request.js';

/** The envelopes the endpoint answers with, spelled as Windows spells them (prefixes s, a, x, w, rsp, p). */

export const NS = {
  s: SOAP_NS,
  a: 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
  x: 'http://schemas.xmlsoap.org/ws/2004/09/transfer',
  w: 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd',
  rsp: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell',
  p: 'http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd',
  f: 'http://schemas.microsoft.com/wbem/wsman/1/wsmanfault',
} as const;

export const SHELL_URI = `${NS.rsp}/cmd`;

export const Actions = {
  create: `${NS.x}/Create`,
  delete: `${NS.x}/Delete`,
  command: `${NS.rsp}/Command`,
  send: `${NS.rsp}/Send`,
  receive: `${NS.rsp}/Receive`,
  signal: `${NS.rsp}/Signal`,
  fault: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/fault',
} as const;

export const CommandState = { running: `${NS.rsp}/CommandState/Running`, done: `${NS.rsp}/CommandState/Done` } as const;
export const SignalCode = {
  terminate: `${NS.rsp}/signal/terminate`,
  ctrlC: `${NS.rsp}/signal/ctrl_c`,
  ctrlBreak: `${NS.rsp}/signal/ctrl_break`,
} as const;

export const xmlEscape = (value: string): string =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);

const ANONYMOUS = `${NS.a}/role/anonymous`;

/** A response envelope; `relatesTo` is the request's MessageID. */
export const replyEnvelope = (action: string, relatesTo: string | undefined, body: string): string =>
  `<s:Envelope xml:lang="en-US" xmlns:s="${NS.s}" xmlns:a="${NS.a}" xmlns:x="${NS.x}" xmlns:w="${NS.w}" xmlns:rsp="${NS.rsp}" xmlns:p="${NS.p}">` +
  `<s:Header><a:Action>${action}</a:Action><a:MessageID>uuid:${randomUUID().toUpperCase()}</a:MessageID><a:To>${ANONYMOUS}</a:To>` +
  (relatesTo ? `<a:RelatesTo>${xmlEscape(relatesTo)}</a:RelatesTo>` : '') +
  `</s:Header><s:Body>${body}</s:Body></s:Envelope>`;

/** A SOAP 1.2 fault with the WSManFault detail Windows adds (code, machine, message). */
export const faultEnvelope = (fault: WsmanFault, relatesTo: string | undefined, machine: string): string =>
  replyEnvelope(
    Actions.fault,
    relatesTo,
    `<s:Fault><s:Code><s:Value>${fault.value}</s:Value><s:Subcode><s:Value>${fault.subcode}</s:Value></s:Subcode></s:Code>` +
      `<s:Reason><s:Text xml:lang="en-US">${xmlEscape(fault.message)}</s:Text></s:Reason>` +
      `<s:Detail><f:WSManFault xmlns:f="${NS.f}" Code="${fault.code}" Machine="${xmlEscape(machine)}"><f:Message>${xmlEscape(fault.message)}</f:Message></f:WSManFault></s:Detail></s:Fault>`,
  );
