import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { md4 } from './md4.js';
import {
  AV_FLAG_MIC_PRESENT,
  AvId,
  CLIENT_FLAGS,
  MIC_OFFSET,
  NtlmError,
  NtlmFlag,
  decodeAuthenticate,
  decodeChallenge,
  decodeNegotiate,
  encodeAuthenticate,
  encodeAvPairs,
  encodeChallenge,
  encodeNegotiate,
  type AvPair,
} from './messages.js';
import { Rc4 } from './rc4.js';

/** NTLMv2 with extended session security (MS-NLMP 3.3.2, 3.4): the client, the server, and the sealed session between them. */

const hmacMd5 = (key: Buffer, ...data: Buffer[]): Buffer => createHmac('md5', key).update(Buffer.concat(data)).digest();
const utf16 = (text: string): Buffer => Buffer.from(text, 'utf16le');

/** NTOWFv2: the NTLMv2 response key from the password, user and domain. */
export const ntowfv2 = (password: string, user: string, domain: string): Buffer =>
  hmacMd5(md4(utf16(password)), utf16(user.toUpperCase() + domain));

/** Now as a Windows FILETIME (100 ns ticks since 1601), little-endian. */
const fileTime = (ms: number): Buffer => {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE((BigInt(ms) + 11_644_473_600_000n) * 10_000n);
  return out;
};

const magic = (text: string): Buffer => Buffer.from(`session key to ${text} key magic constant\0`, 'latin1');

/**
 * The signing and sealing state of an authenticated NTLM context: one RC4 stream and sequence
 * number per direction, as WinRM's message encryption uses them.
 */
export class NtlmSession {
  private readonly sendSign: Buffer;
  private readonly recvSign: Buffer;
  private readonly sendSeal: Rc4;
  private readonly recvSeal: Rc4;
  private sendSeq = 0;
  private recvSeq = 0;

  constructor(
    exportedSessionKey: Buffer,
    private readonly flags: number,
    role: 'client' | 'server',
  ) {
    const key = (what: string) =>
      createHash('md5')
        .update(Buffer.concat([exportedSessionKey, magic(what)]))
        .digest();
    const c2s = { sign: key('client-to-server signing'), seal: key('client-to-server sealing') };
    const s2c = { sign: key('server-to-client signing'), seal: key('server-to-client sealing') };
    const [send, recv] = role === 'client' ? [c2s, s2c] : [s2c, c2s];
    this.sendSign = send.sign;
    this.recvSign = recv.sign;
    this.sendSeal = new Rc4(send.seal);
    this.recvSeal = new Rc4(recv.seal);
  }

  private signature(signKey: Buffer, seal: Rc4, seq: number, message: Buffer): Buffer {
    const seqBytes = Buffer.alloc(4);
    seqBytes.writeUInt32LE(seq);
    let checksum = hmacMd5(signKey, seqBytes, message).subarray(0, 8);
    if (this.flags & NtlmFlag.keyExchange) checksum = seal.update(checksum);
    const version = Buffer.from([1, 0, 0, 0]);
    return Buffer.concat([version, checksum, seqBytes]);
  }

  /** Encrypts a message and signs it (the signature is 16 bytes). */
  seal(message: Buffer): { signature: Buffer; sealed: Buffer } {
    const sealed = this.sendSeal.update(message);
    const signature = this.signature(this.sendSign, this.sendSeal, this.sendSeq, message);
    this.sendSeq += 1;
    return { signature, sealed };
  }

  /** Decrypts a message from the peer and checks its signature; a forged or replayed message throws. */
  unseal(sealed: Buffer, signature: Buffer): Buffer {
    const message = this.recvSeal.update(sealed);
    const expected = this.signature(this.recvSign, this.recvSeal, this.recvSeq, message);
    this.recvSeq += 1;
    if (signature.length !== 16 || !timingSafeEqual(signature, expected))
      throw new NtlmError('NTLM message signature does not verify');
    return message;
  }
}

export interface NtlmCredentials {
  user: string;
  domain: string;
  password: string;
  workstation?: string;
}

/** The client side: NEGOTIATE, then AUTHENTICATE in answer to the server's CHALLENGE. */
export class NtlmClient {
  private readonly negotiateMessage = encodeNegotiate();

  constructor(private readonly credentials: NtlmCredentials) {}

  negotiate(): Buffer {
    return this.negotiateMessage;
  }

  authenticate(challengeMessage: Buffer, now = Date.now()): { message: Buffer; session: NtlmSession } {
    const challenge = decodeChallenge(challengeMessage);
    const flags = (CLIENT_FLAGS & challenge.flags) >>> 0;
    if (!(flags & NtlmFlag.extendedSessionSecurity) || !(flags & NtlmFlag.seal)) {
      throw new NtlmError('the server refused NTLMv2 session security (sealing): message encryption is impossible');
    }
    const { user, domain, password } = this.credentials;
    const responseKey = ntowfv2(password, user, domain);
    const serverTimestamp = challenge.targetInfo.find((p) => p.id === AvId.timestamp)?.value;
    // With a server timestamp the MIC is sent and announced in MsvAvFlags (MS-NLMP 3.1.5.1.2).
    const avFlags = Buffer.alloc(4);
    const info: AvPair[] = challenge.targetInfo.filter((p) => p.id !== AvId.flags);
    const existingFlags = challenge.targetInfo.find((p) => p.id === AvId.flags)?.value.readUInt32LE(0) ?? 0;
    avFlags.writeUInt32LE((existingFlags | (serverTimestamp ? AV_FLAG_MIC_PRESENT : 0)) >>> 0);
    info.push({ id: AvId.flags, value: avFlags });
    const clientChallenge = randomBytes(8);
    const temp = Buffer.concat([
      Buffer.from([1, 1, 0, 0, 0, 0, 0, 0]),
      serverTimestamp ?? fileTime(now),
      clientChallenge,
      Buffer.alloc(4),
      encodeAvPairs(info),
      Buffer.alloc(4),
    ]);
    const ntProof = hmacMd5(responseKey, challenge.serverChallenge, temp);
    const sessionBaseKey = hmacMd5(responseKey, ntProof);
    const exportedSessionKey = flags & NtlmFlag.keyExchange ? randomBytes(16) : sessionBaseKey;
    const encryptedRandomSessionKey =
      flags & NtlmFlag.keyExchange ? new Rc4(sessionBaseKey).update(exportedSessionKey) : Buffer.alloc(0);
    const lmResponse = serverTimestamp
      ? Buffer.alloc(24)
      : Buffer.concat([hmacMd5(responseKey, challenge.serverChallenge, clientChallenge), clientChallenge]);
    const fields = {
      flags,
      lmResponse,
      ntResponse: Buffer.concat([ntProof, temp]),
      domain,
      user,
      workstation: this.credentials.workstation ?? 'OPSCONDUCTOR',
      encryptedRandomSessionKey,
      mic: Buffer.alloc(16),
    };
    const message = encodeAuthenticate(fields);
    if (serverTimestamp)
      hmacMd5(exportedSessionKey, this.negotiateMessage, challengeMessage, message).copy(message, MIC_OFFSET);
    return { message, session: new NtlmSession(exportedSessionKey, flags, 'client') };
  }
}

/** Looks a user's password up; undefined for an unknown user. */
export type PasswordLookup = (user: string, domain: string) => string | undefined;

/** The server side: CHALLENGE in answer to NEGOTIATE, then the check of AUTHENTICATE. */
export class NtlmServer {
  private negotiateMessage: Buffer | undefined;
  private challengeMessage: Buffer | undefined;
  private serverChallenge: Buffer | undefined;

  constructor(
    private readonly passwords: PasswordLookup,
    private readonly names: { computer: string; domain: string } = { computer: 'WINHOST', domain: 'WORKGROUP' },
  ) {}

  challenge(negotiateMessage: Buffer, now = Date.now()): Buffer {
    const { flags: asked } = decodeNegotiate(negotiateMessage);
    const supported = CLIENT_FLAGS | 0x00020000; // TARGET_TYPE_SERVER
    const flags = ((asked & supported) | NtlmFlag.targetInfo | NtlmFlag.version | 0x00020000) >>> 0;
    this.serverChallenge = randomBytes(8);
    this.negotiateMessage = negotiateMessage;
    this.challengeMessage = encodeChallenge({
      flags,
      serverChallenge: this.serverChallenge,
      targetName: this.names.computer,
      targetInfo: [
        { id: AvId.nbDomainName, value: utf16(this.names.domain) },
        { id: AvId.nbComputerName, value: utf16(this.names.computer) },
        { id: AvId.dnsDomainName, value: utf16(this.names.domain.toLowerCase()) },
        { id: AvId.dnsComputerName, value: utf16(this.names.computer.toLowerCase()) },
        { id: AvId.timestamp, value: fileTime(now) },
      ],
    });
    return this.challengeMessage;
  }

  /** Verifies the client's proof of the password (and its MIC); throws NtlmError when it fails. */
  accept(authenticateMessage: Buffer): { user: string; domain: string; session: NtlmSession } {
    if (!this.serverChallenge || !this.challengeMessage || !this.negotiateMessage)
      throw new NtlmError('AUTHENTICATE before CHALLENGE');
    const auth = decodeAuthenticate(authenticateMessage);
    const password = this.passwords(auth.user, auth.domain);
    if (password === undefined || auth.ntResponse.length < 48) throw new NtlmError('authentication failed');
    const responseKey = ntowfv2(password, auth.user, auth.domain);
    const proof = auth.ntResponse.subarray(0, 16);
    const temp = auth.ntResponse.subarray(16);
    if (!timingSafeEqual(hmacMd5(responseKey, this.serverChallenge, temp), proof))
      throw new NtlmError('authentication failed');
    const sessionBaseKey = hmacMd5(responseKey, proof);
    const exportedSessionKey =
      auth.flags & NtlmFlag.keyExchange && auth.encryptedRandomSessionKey.length === 16
        ? new Rc4(sessionBaseKey).update(auth.encryptedRandomSessionKey)
        : sessionBaseKey;
    if (auth.mic.length === 16 && !auth.mic.equals(Buffer.alloc(16))) {
      const zeroed = Buffer.from(authenticateMessage);
      Buffer.alloc(16).copy(zeroed, MIC_OFFSET);
      const mic = hmacMd5(exportedSessionKey, this.negotiateMessage, this.challengeMessage, zeroed);
      if (!timingSafeEqual(mic, auth.mic)) throw new NtlmError('authentication failed (MIC)');
    }
    return { user: auth.user, domain: auth.domain, session: new NtlmSession(exportedSessionKey, auth.flags, 'server') };
  }
}
