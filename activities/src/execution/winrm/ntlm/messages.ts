/**
 * NTLM message layouts (MS-NLMP 2.2.1): NEGOTIATE, CHALLENGE and AUTHENTICATE, with the flags and
 * AV pairs NTLMv2 uses. Pure encoding; the cryptography is in `ntlm.ts`.
 */
export const NtlmFlag = {
  unicode: 0x00000001,
  requestTarget: 0x00000004,
  sign: 0x00000010,
  seal: 0x00000020,
  ntlm: 0x00000200,
  alwaysSign: 0x00008000,
  extendedSessionSecurity: 0x00080000,
  targetInfo: 0x00800000,
  version: 0x02000000,
  key128: 0x20000000,
  keyExchange: 0x40000000,
  key56: 0x80000000,
} as const;

/** What a client asks for: NTLMv2 with 128-bit keys, key exchange, signing and sealing (WinRM's message encryption). */
export const CLIENT_FLAGS =
  (NtlmFlag.unicode |
    NtlmFlag.requestTarget |
    NtlmFlag.sign |
    NtlmFlag.seal |
    NtlmFlag.ntlm |
    NtlmFlag.alwaysSign |
    NtlmFlag.extendedSessionSecurity |
    NtlmFlag.targetInfo |
    NtlmFlag.version |
    NtlmFlag.key128 |
    NtlmFlag.keyExchange |
    NtlmFlag.key56) >>>
  0;

export const AvId = {
  eol: 0,
  nbComputerName: 1,
  nbDomainName: 2,
  dnsComputerName: 3,
  dnsDomainName: 4,
  flags: 6,
  timestamp: 7,
} as const;
export const AV_FLAG_MIC_PRESENT = 0x2;

const SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');
/** Windows 10, build 19041, NTLM revision 15: a version field receivers accept. */
const VERSION = Buffer.from([10, 0, 0x61, 0x4a, 0, 0, 0, 15]);

export class NtlmError extends Error {}

export interface AvPair {
  id: number;
  value: Buffer;
}

export const encodeAvPairs = (pairs: AvPair[]): Buffer => {
  const parts: Buffer[] = [];
  for (const { id, value } of pairs.filter((p) => p.id !== AvId.eol)) {
    const head = Buffer.alloc(4);
    head.writeUInt16LE(id, 0);
    head.writeUInt16LE(value.length, 2);
    parts.push(head, value);
  }
  parts.push(Buffer.alloc(4));
  return Buffer.concat(parts);
};

export const decodeAvPairs = (data: Buffer): AvPair[] => {
  const pairs: AvPair[] = [];
  for (let at = 0; at + 4 <= data.length;) {
    const id = data.readUInt16LE(at);
    const length = data.readUInt16LE(at + 2);
    if (id === AvId.eol) return pairs;
    if (at + 4 + length > data.length) throw new NtlmError('AV pair runs past the target info');
    pairs.push({ id, value: Buffer.from(data.subarray(at + 4, at + 4 + length)) });
    at += 4 + length;
  }
  throw new NtlmError('target info has no end-of-list pair');
};

const checkHeader = (message: Buffer, type: number): void => {
  if (message.length < 12 || !message.subarray(0, 8).equals(SIGNATURE) || message.readUInt32LE(8) !== type) {
    throw new NtlmError(`not an NTLM type ${type} message`);
  }
};

/** Reads a (length, max length, offset) field and the bytes it points at. */
const field = (message: Buffer, at: number): Buffer => {
  if (message.length < at + 8) throw new NtlmError('NTLM message truncated');
  const length = message.readUInt16LE(at);
  const offset = message.readUInt32LE(at + 4);
  if (offset + length > message.length) throw new NtlmError('NTLM field points past the message');
  return Buffer.from(message.subarray(offset, offset + length));
};

/** Lays out fixed header bytes followed by variable fields, filling in each field's descriptor. */
const withPayload = (header: Buffer, fields: [number, Buffer][]): Buffer => {
  let offset = header.length;
  for (const [at, value] of fields) {
    header.writeUInt16LE(value.length, at);
    header.writeUInt16LE(value.length, at + 2);
    header.writeUInt32LE(offset, at + 4);
    offset += value.length;
  }
  return Buffer.concat([header, ...fields.map(([, value]) => value)]);
};

export const encodeNegotiate = (flags = CLIENT_FLAGS): Buffer => {
  const header = Buffer.alloc(40);
  SIGNATURE.copy(header, 0);
  header.writeUInt32LE(1, 8);
  header.writeUInt32LE(flags, 12);
  VERSION.copy(header, 32);
  return withPayload(header, [
    [16, Buffer.alloc(0)],
    [24, Buffer.alloc(0)],
  ]);
};

export const decodeNegotiate = (message: Buffer): { flags: number } => {
  checkHeader(message, 1);
  return { flags: message.readUInt32LE(12) };
};

export interface Challenge {
  flags: number;
  serverChallenge: Buffer;
  targetName: string;
  targetInfo: AvPair[];
}

export const encodeChallenge = (c: Challenge): Buffer => {
  const header = Buffer.alloc(56);
  SIGNATURE.copy(header, 0);
  header.writeUInt32LE(2, 8);
  header.writeUInt32LE(c.flags >>> 0, 20);
  c.serverChallenge.copy(header, 24);
  VERSION.copy(header, 48);
  return withPayload(header, [
    [12, Buffer.from(c.targetName, 'utf16le')],
    [40, encodeAvPairs(c.targetInfo)],
  ]);
};

export const decodeChallenge = (message: Buffer): Challenge => {
  checkHeader(message, 2);
  if (message.length < 48) throw new NtlmError('NTLM challenge truncated');
  const flags = message.readUInt32LE(20);
  return {
    flags,
    serverChallenge: Buffer.from(message.subarray(24, 32)),
    targetName: field(message, 12).toString('utf16le'),
    targetInfo: flags & NtlmFlag.targetInfo ? decodeAvPairs(field(message, 40)) : [],
  };
};

export interface Authenticate {
  flags: number;
  lmResponse: Buffer;
  ntResponse: Buffer;
  domain: string;
  user: string;
  workstation: string;
  encryptedRandomSessionKey: Buffer;
  mic: Buffer;
}

/** Byte offset of the MIC in an AUTHENTICATE message (with the version field present). */
export const MIC_OFFSET = 72;

export const encodeAuthenticate = (a: Authenticate): Buffer => {
  const header = Buffer.alloc(88);
  SIGNATURE.copy(header, 0);
  header.writeUInt32LE(3, 8);
  header.writeUInt32LE(a.flags >>> 0, 60);
  VERSION.copy(header, 64);
  a.mic.copy(header, MIC_OFFSET);
  return withPayload(header, [
    [12, a.lmResponse],
    [20, a.ntResponse],
    [28, Buffer.from(a.domain, 'utf16le')],
    [36, Buffer.from(a.user, 'utf16le')],
    [44, Buffer.from(a.workstation, 'utf16le')],
    [52, a.encryptedRandomSessionKey],
  ]);
};

export const decodeAuthenticate = (message: Buffer): Authenticate => {
  checkHeader(message, 3);
  if (message.length < 64) throw new NtlmError('NTLM authenticate truncated');
  const flags = message.readUInt32LE(60);
  const payloadStart = Math.min(...[12, 20, 28, 36, 44, 52].map((at) => message.readUInt32LE(at + 4)));
  const hasMic = payloadStart >= MIC_OFFSET + 16;
  return {
    flags,
    lmResponse: field(message, 12),
    ntResponse: field(message, 20),
    domain: field(message, 28).toString('utf16le'),
    user: field(message, 36).toString('utf16le'),
    workstation: field(message, 44).toString('utf16le'),
    encryptedRandomSessionKey: field(message, 52),
    mic: hasMic ? Buffer.from(message.subarray(MIC_OFFSET, MIC_OFFSET + 16)) : Buffer.alloc(0),
  };
};
