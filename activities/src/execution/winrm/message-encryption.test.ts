import { describe, expect, it } from 'vitest';
import { NtlmClient, NtlmServer } from './ntlm/ntlm.js';
import {
  decryptMessage,
  encryptMessage,
  isEncryptedContentType,
  ENCRYPTED_CONTENT_TYPE,
} from './message-encryption.js';

const handshake = () => {
  const client = new NtlmClient({ user: 'ops', domain: '', password: 'pw' });
  const server = new NtlmServer(() => 'pw');
  const { message, session } = client.authenticate(server.challenge(client.negotiate()));
  return { client: session, server: server.accept(message).session };
};

describe('WinRM message encryption', () => {
  it('carries SOAP both ways, each direction on its own sealing stream', () => {
    const { client, server } = handshake();
    const request = Buffer.from('<s:Envelope>request ✓</s:Envelope>');
    const body = encryptMessage(client, request);
    expect(body.includes(request)).toBe(false);
    expect(body.toString('latin1')).toContain(
      `OriginalContent: type=application/soap+xml;charset=UTF-8;Length=${request.length}`,
    );
    expect(decryptMessage(server, body)).toEqual(request);
    const response = Buffer.from('<s:Envelope>response</s:Envelope>');
    expect(decryptMessage(client, encryptMessage(server, response))).toEqual(response);
    expect(decryptMessage(server, encryptMessage(client, request))).toEqual(request);
  });

  it('refuses a tampered body and a replayed one', () => {
    const { client, server } = handshake();
    const body = encryptMessage(client, Buffer.from('<s:Envelope/>'));
    const tampered = Buffer.from(body);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 30) ^ 1, tampered.length - 30);
    expect(() => decryptMessage(server, tampered)).toThrow(/signature/);
    const fresh = handshake();
    const once = encryptMessage(fresh.client, Buffer.from('<a/>'));
    decryptMessage(fresh.server, once);
    expect(() => decryptMessage(fresh.server, once)).toThrow(/signature/);
  });

  it('recognises the content type', () => {
    expect(isEncryptedContentType(ENCRYPTED_CONTENT_TYPE)).toBe(true);
    expect(isEncryptedContentType('application/soap+xml;charset=UTF-8')).toBe(false);
  });
});
