import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { NtlmServer, type NtlmSession } from '@opsc/activities/execution';
import type { ResolvedAuth } from './win-host-options.js';

/**
 * HTTP authentication as WinRM does it. NTLM (raw NTLMSSP tokens in `Negotiate` or `NTLM`)
 * authenticates the TCP connection: NEGOTIATE gets a 401 carrying the CHALLENGE, AUTHENTICATE
 * completes it, and later requests on that connection need no header. Basic is per request;
 * certificate authentication maps the fleet's client certificate to the host's account.
 */

export const CERTIFICATE_AUTH = 'http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual';

export interface Account {
  username: string;
  password: string;
  /** `WIN-01`: the NetBIOS domain of a local account. */
  hostname: string;
  /** SHA-256 fingerprint (`AB:CD:...`) of the client certificate mapped to this account. */
  clientFingerprint: string;
}

/** NTLM state of one TCP connection. */
export interface ConnectionAuth {
  pending?: { server: NtlmServer; scheme: string };
  session?: { user: string; ntlm: NtlmSession };
}

export type AuthOutcome =
  | { kind: 'ok'; user: string; method: 'ntlm' | 'basic' | 'certificate' | 'connection'; session?: NtlmSession }
  /** 401 with this WWW-Authenticate value (an NTLM CHALLENGE). */
  | { kind: 'challenge'; header: string }
  /** 401 with the offered schemes. */
  | { kind: 'reject' };

/** The schemes a 401 offers. */
export const offers = (auth: ResolvedAuth): string[] => [
  ...(auth.ntlm ? ['Negotiate'] : []),
  ...(auth.basic ? ['Basic realm="WSMAN"'] : []),
];

/** A local account may be named `user`, `.\user`, `HOST\user` or `user@HOST`. */
const localUser = (user: string, domain: string, account: Account): boolean =>
  user.toLowerCase() === account.username.toLowerCase() &&
  ['', '.', account.hostname.toLowerCase(), 'localhost'].includes(domain.toLowerCase());

const splitAccount = (name: string): { user: string; domain: string } => {
  const slash = name.indexOf('\\');
  if (slash !== -1) return { domain: name.slice(0, slash), user: name.slice(slash + 1) };
  const at = name.lastIndexOf('@');
  if (at !== -1) return { user: name.slice(0, at), domain: name.slice(at + 1) };
  return { user: name, domain: '' };
};

const NTLMSSP = Buffer.from('NTLMSSP\0', 'latin1');

const ntlm = (scheme: string, token: Buffer, conn: ConnectionAuth, account: Account): AuthOutcome => {
  if (token.length < 12 || !token.subarray(0, 8).equals(NTLMSSP)) return { kind: 'reject' };
  const type = token.readUInt32LE(8);
  if (type === 1) {
    const server = new NtlmServer((user, domain) => (localUser(user, domain, account) ? account.password : undefined), {
      computer: account.hostname,
      domain: account.hostname,
    });
    const challenge = server.challenge(token);
    conn.pending = { server, scheme };
    conn.session = undefined;
    return { kind: 'challenge', header: `${scheme} ${challenge.toString('base64')}` };
  }
  const pending = conn.pending;
  conn.pending = undefined;
  if (type !== 3 || !pending) return { kind: 'reject' };
  try {
    const { user, session } = pending.server.accept(token);
    conn.session = { user, ntlm: session };
    return { kind: 'ok', user, method: 'ntlm', session };
  } catch {
    return { kind: 'reject' };
  }
};

export const authenticate = (
  req: IncomingMessage,
  conn: ConnectionAuth,
  account: Account,
  auth: ResolvedAuth,
  secure: boolean,
): AuthOutcome => {
  const header = req.headers.authorization?.trim();
  if (!header)
    return conn.session
      ? { kind: 'ok', user: conn.session.user, method: 'connection', session: conn.session.ntlm }
      : { kind: 'reject' };
  if (header === CERTIFICATE_AUTH) {
    if (!secure || !auth.certificate) return { kind: 'reject' };
    const presented = (req.socket as TLSSocket).getPeerCertificate();
    const ok = Boolean(
      presented && 'fingerprint256' in presented && presented.fingerprint256 === account.clientFingerprint,
    );
    return ok ? { kind: 'ok', user: account.username, method: 'certificate' } : { kind: 'reject' };
  }
  const space = header.indexOf(' ');
  const scheme = space === -1 ? header : header.slice(0, space);
  const value = space === -1 ? '' : header.slice(space + 1).trim();
  if (/^(negotiate|ntlm)$/i.test(scheme)) {
    if (!auth.ntlm) return { kind: 'reject' };
    return ntlm(scheme, Buffer.from(value, 'base64'), conn, account);
  }
  if (/^basic$/i.test(scheme)) {
    if (!auth.basic) return { kind: 'reject' };
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const { user, domain } = splitAccount(decoded.slice(0, colon === -1 ? undefined : colon));
    const ok = colon !== -1 && localUser(user, domain, account) && decoded.slice(colon + 1) === account.password;
    return ok ? { kind: 'ok', user: account.username, method: 'basic' } : { kind: 'reject' };
  }
  return { kind: 'reject' };
};
