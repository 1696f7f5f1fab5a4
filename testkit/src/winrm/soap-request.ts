import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { Faults } from './faults.js';

/**
 * Reads a WS-Management request (SOAP 1.2 + WS-Addressing + WS-Management headers). Prefixes are
 * the client's choice (pywinrm says `env:`/`a:`/`w:`, others `s:`/`wsa:`/`wsman:`), so elements are
 * matched by local name; the SOAP 1.2 envelope namespace itself is checked.
 */

export const SOAP_NS = 'http://www.w3.org/2003/05/soap-envelope';

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name) => ['Option', 'Selector', 'Arguments', 'Stream', 'Variable'].includes(name),
});

export type XmlNode = Record<string, unknown>;
export const node = (value: unknown): XmlNode =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as XmlNode) : {};
export const nodes = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);
export const text = (value: unknown): string =>
  typeof value === 'string'
    ? value
    : typeof value === 'object' && value !== null
      ? String((value as XmlNode)['#text'] ?? '')
      : '';
export const attr = (value: unknown, name: string): string | undefined => {
  const v = node(value)[`@_${name}`];
  return typeof v === 'string' ? v : undefined;
};

export interface SoapRequest {
  action: string;
  resourceUri: string;
  /** `uuid:...` as sent; echoed in RelatesTo. */
  messageId: string;
  maxEnvelopeSize: number;
  operationTimeoutMs: number;
  selectors: Record<string, string>;
  options: Record<string, string>;
  body: XmlNode;
}

/** Windows' MaxEnvelopeSizekb default (500 KB) when a request names none. */
const DEFAULT_MAX_ENVELOPE = 512_000;
/** WinRM's MaxTimeoutms default: a Receive without OperationTimeout waits a minute. */
const DEFAULT_OPERATION_TIMEOUT_MS = 60_000;

/** `PT20S`, `PT20.000S`, `PT0.5S`, `P0DT0H1M0S` -> milliseconds; undefined when it is not an xs:duration. */
export const parseDuration = (value: string): number | undefined => {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(value.trim());
  if (!m || value.trim() === 'P' || value.trim().endsWith('T')) return undefined;
  const [, d = '0', h = '0', min = '0', s = '0'] = m;
  return Math.round(((Number(d) * 24 + Number(h)) * 60 + Number(min)) * 60_000 + Number(s) * 1000);
};

/** Parses a request; malformed XML, a non-SOAP-1.2 envelope or a bad header value throws a WsmanFault. */
export const parseSoapRequest = (xml: string): SoapRequest => {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw Faults.invalidXml(valid.err.msg);
  if (!xml.includes(SOAP_NS)) throw Faults.soapVersion();
  const envelope = node(node(parser.parse(xml)).Envelope);
  if (!('Header' in envelope) || !('Body' in envelope))
    throw Faults.invalidXml('the message is not a SOAP envelope with a Header and a Body');
  const header = node(envelope.Header);
  const maxEnvelope = text(header.MaxEnvelopeSize);
  const timeout = text(header.OperationTimeout);
  const operationTimeoutMs = timeout ? parseDuration(timeout) : DEFAULT_OPERATION_TIMEOUT_MS;
  if (operationTimeoutMs === undefined) throw Faults.invalidHeader(`OperationTimeout ${timeout} is not an xs:duration`);
  if (maxEnvelope && !/^\d+$/.test(maxEnvelope))
    throw Faults.invalidHeader(`MaxEnvelopeSize ${maxEnvelope} is not a number`);
  const pairs = (list: unknown): Record<string, string> =>
    Object.fromEntries(nodes(list).flatMap((n) => (attr(n, 'Name') ? [[attr(n, 'Name') as string, text(n)]] : [])));
  return {
    action: text(header.Action),
    resourceUri: text(header.ResourceURI),
    messageId: text(header.MessageID),
    maxEnvelopeSize: maxEnvelope ? Number(maxEnvelope) : DEFAULT_MAX_ENVELOPE,
    operationTimeoutMs,
    selectors: pairs(node(header.SelectorSet).Selector),
    options: pairs(node(header.OptionSet).Option),
    body: node(envelope.Body),
  };
};
