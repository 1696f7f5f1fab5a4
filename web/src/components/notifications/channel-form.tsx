'use client';
import { useState, type FormEvent } from 'react';
import type { NotificationChannelKind } from '@opsc/contracts';

const EMPTY = {
  name: '',
  url: '',
  secret: '',
  host: '',
  port: '587',
  tls: 'starttls',
  username: '',
  password: '',
  from: '',
  to: '',
  caPem: '',
};
type Fields = typeof EMPTY;

/** The request body of a channel of `kind` from the form's fields (secrets go to the API once, sealed there). */
const bodyOf = (kind: NotificationChannelKind, f: Fields): Record<string, unknown> => {
  if (kind === 'webhook') return { kind, name: f.name, url: f.url, secret: f.secret };
  if (kind === 'slack') return { kind, name: f.name, url: f.url };
  return {
    kind,
    name: f.name,
    host: f.host,
    port: Number(f.port),
    tls: f.tls,
    username: f.username,
    password: f.password,
    from: f.from,
    to: f.to
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    ...(f.caPem.trim() && { caPem: f.caPem }),
  };
};

/** Creates a channel of any kind; `errors` are the API's field issues (`to.0`, `port`, ...). */
export function ChannelForm(props: {
  errors: Map<string, string>;
  onCreate: (body: Record<string, unknown>) => Promise<boolean>;
}) {
  const [kind, setKind] = useState<NotificationChannelKind>('webhook');
  const [f, setF] = useState<Fields>(EMPTY);
  const field = (name: keyof Fields, label: string, extra: { type?: string; placeholder?: string } = {}) => (
    <label>
      {label}
      <input
        name={`channel-${name}`}
        type={extra.type ?? 'text'}
        value={f[name]}
        placeholder={extra.placeholder}
        onChange={(e) => setF({ ...f, [name]: e.target.value })}
        aria-invalid={props.errors.has(name)}
        autoComplete="off"
      />
      {props.errors.get(name) && <span className="field-error">{props.errors.get(name)}</span>}
    </label>
  );
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (await props.onCreate(bodyOf(kind, f))) setF(EMPTY);
  };
  return (
    <form className="filters" onSubmit={(e) => void submit(e)} aria-label="Create a channel" autoComplete="off">
      <label>
        Kind
        <select name="channel-kind" value={kind} onChange={(e) => setKind(e.target.value as NotificationChannelKind)}>
          <option value="webhook">Webhook (signed JSON)</option>
          <option value="slack">Slack incoming webhook</option>
          <option value="email">E-mail (SMTP)</option>
        </select>
      </label>
      {field('name', 'Name', { placeholder: 'ops-alerts' })}
      {kind !== 'email' && field('url', kind === 'slack' ? 'Webhook URL (secret)' : 'URL', { type: 'url' })}
      {kind === 'webhook' && field('secret', 'Signing secret', { type: 'password' })}
      {kind === 'email' && (
        <>
          {field('host', 'SMTP host')}
          {field('port', 'Port', { type: 'number' })}
          <label>
            TLS
            <select name="channel-tls" value={f.tls} onChange={(e) => setF({ ...f, tls: e.target.value })}>
              <option value="starttls">STARTTLS (required)</option>
              <option value="implicit">Implicit TLS (SMTPS)</option>
            </select>
          </label>
          {field('username', 'User name')}
          {field('password', 'Password', { type: 'password' })}
          {field('from', 'From')}
          {field('to', 'To (comma-separated)')}
          <label>
            CA certificate (PEM, optional)
            <textarea
              name="channel-caPem"
              value={f.caPem}
              rows={3}
              onChange={(e) => setF({ ...f, caPem: e.target.value })}
              aria-invalid={props.errors.has('caPem')}
            />
            {props.errors.get('caPem') && <span className="field-error">{props.errors.get('caPem')}</span>}
          </label>
        </>
      )}
      <button type="submit" className="primary" disabled={!f.name}>
        Create channel
      </button>
    </form>
  );
}
