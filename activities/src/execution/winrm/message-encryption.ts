import type { NtlmSession } from './ntlm/ntlm.js';

/**
 * WinRM message encryption over HTTP (MS-WSMV 2.2.9.1): each SOAP body travels sealed by the
 * authenticated NTLM session inside a two-part MIME body. Windows refuses unencrypted HTTP by
 * default, so this is what a real fleet needs.
 */
const BOUNDARY = 'Encrypted Boundary';
const PROTOCOL = 'application/HTTP-SPNEGO-session-encrypted';
const MIME_BOUNDARY = Buffer.from(`--${BOUNDARY}\r\n`, 'latin1');
const END_BOUNDARY = Buffer.from(`--${BOUNDARY}--\r\n`, 'latin1');
const OCTET_HEADER = Buffer.from('\tContent-Type: application/octet-stream\r\n', 'latin1');

export const ENCRYPTED_CONTENT_TYPE = `multipart/encrypted;protocol="${PROTOCOL}";boundary="${BOUNDARY}"`;

export class MessageEncryptionError extends Error {}

/** True when a Content-Type header announces an encrypted WinRM body. */
export const isEncryptedContentType = (contentType: string | null | undefined): boolean =>
  Boolean(contentType?.toLowerCase().startsWith('multipart/encrypted') && contentType.includes(PROTOCOL));

export const encryptMessage = (session: NtlmSession, soap: Buffer): Buffer => {
  const { signature, sealed } = session.seal(soap);
  const signatureLength = Buffer.alloc(4);
  signatureLength.writeInt32LE(signature.length);
  return Buffer.concat([
    MIME_BOUNDARY,
    Buffer.from(
      `\tContent-Type: ${PROTOCOL}\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=${soap.length}\r\n`,
      'latin1',
    ),
    MIME_BOUNDARY,
    OCTET_HEADER,
    signatureLength,
    signature,
    sealed,
    END_BOUNDARY,
  ]);
};

const split = (body: Buffer, separator: Buffer): Buffer[] => {
  const parts: Buffer[] = [];
  let from = 0;
  for (let at = body.indexOf(separator); at !== -1; at = body.indexOf(separator, from)) {
    parts.push(body.subarray(from, at));
    from = at + separator.length;
  }
  parts.push(body.subarray(from));
  return parts.filter((p) => p.length > 0);
};

/** Opens an encrypted body; a bad signature or a length that does not match is an error (tampering). */
export const decryptMessage = (session: NtlmSession, body: Buffer): Buffer => {
  const parts = split(body, MIME_BOUNDARY);
  if (parts.length === 0 || parts.length % 2 !== 0) throw new MessageEncryptionError('malformed encrypted WinRM body');
  const messages: Buffer[] = [];
  for (let i = 0; i < parts.length; i += 2) {
    const header = (parts[i] as Buffer).toString('latin1');
    const length = /Length=(\d+)/.exec(header)?.[1];
    if (length === undefined) throw new MessageEncryptionError('encrypted WinRM part without OriginalContent length');
    let payload = parts[i + 1] as Buffer;
    if (payload.subarray(payload.length - END_BOUNDARY.length).equals(END_BOUNDARY))
      payload = payload.subarray(0, payload.length - END_BOUNDARY.length);
    if (!payload.subarray(0, OCTET_HEADER.length).equals(OCTET_HEADER))
      throw new MessageEncryptionError('encrypted WinRM part without its octet-stream header');
    payload = payload.subarray(OCTET_HEADER.length);
    if (payload.length < 4) throw new MessageEncryptionError('encrypted WinRM part truncated');
    const signatureLength = payload.readInt32LE(0);
    if (signatureLength < 0 || payload.length < 4 + signatureLength)
      throw new MessageEncryptionError('encrypted WinRM part truncated');
    const message = session.unseal(payload.subarray(4 + signatureLength), payload.subarray(4, 4 + signatureLength));
    if (message.length !== Number(length))
      throw new MessageEncryptionError('encrypted WinRM message length does not match: tampered with');
    messages.push(message);
  }
  return Buffer.concat(messages);
};
