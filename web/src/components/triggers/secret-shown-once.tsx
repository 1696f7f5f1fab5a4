'use client';
import { useState } from 'react';
import type { TriggerMapping } from '@opsc/contracts';
import type { TriggerWithSecret } from '@opsc/contracts/api';

/** A payload the mapping's plain paths (`$.a.b`) fill, as the example body. */
const samplePayload = (mapping: TriggerMapping): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const [name, source] of Object.entries(mapping)) {
    if (!('from' in source) || !/^\$(\.[A-Za-z_][A-Za-z0-9_-]*)+$/.test(source.from)) continue;
    const keys = source.from.slice(2).split('.');
    let at = out;
    for (const key of keys.slice(0, -1)) at = (at[key] ??= {}) as Record<string, unknown>;
    at[keys[keys.length - 1]!] = `<${name}>`;
  }
  return out;
};

const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** How a sender calls a generic trigger: the signature with openssl, the delivery with curl. */
export const curlExample = (url: string, secret: string, mapping: TriggerMapping): string =>
  [
    `SECRET=${shellQuote(secret)}`,
    `BODY=${shellQuote(JSON.stringify(samplePayload(mapping)))}`,
    'TS=$(date +%s)',
    `SIG=$(printf '%s.%s' "$TS" "$BODY" | openssl dgst -sha256 -hmac "$SECRET" | sed 's/^.* //')`,
    `curl -sS -X POST ${shellQuote(url)} \\`,
    `  -H 'content-type: application/json' -H "X-OpsC-Timestamp: $TS" \\`,
    `  -H "X-OpsC-Signature: sha256=$SIG" -d "$BODY"`,
  ].join('\n');

/** The receiver to put in alertmanager.yml. */
export const alertmanagerExample = (url: string, secret: string): string =>
  [
    'receivers:',
    '  - name: opsconductor',
    '    webhook_configs:',
    `      - url: ${JSON.stringify(url)}`,
    '        send_resolved: true',
    '        http_config:',
    '          authorization:',
    `            credentials: ${JSON.stringify(secret)}`,
  ].join('\n');

/** A new or rotated secret: shown here once, with how to use it. */
export const SecretShownOnce = ({ made, onDone }: { made: TriggerWithSecret; onDone: () => void }) => {
  const [copied, setCopied] = useState('');
  const url = `${window.location.origin}${made.trigger.url}`;
  const example =
    made.trigger.kind === 'generic'
      ? curlExample(url, made.secret, made.trigger.mapping)
      : alertmanagerExample(url, made.secret);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(made.secret);
      setCopied('Copied');
    } catch {
      setCopied('Select the secret and copy it');
    }
  };
  return (
    <div className="ok-box" role="status" data-testid="trigger-secret">
      <p>
        The secret of <strong>{made.trigger.name}</strong>. Copy it now: it is not shown again (rotate it to get a new
        one).
      </p>
      <code className="mono" data-testid="trigger-secret-value">
        {made.secret}
      </code>{' '}
      <button type="button" onClick={() => void copy()} data-testid="copy-secret">
        Copy
      </button>{' '}
      <span className="muted small">{copied}</span>
      <p className="small">
        {made.trigger.kind === 'generic'
          ? 'Send a signed delivery (HMAC-SHA256 of "timestamp.body"):'
          : 'Alertmanager receiver (it sends the secret as bearer credentials):'}
      </p>
      <pre className="mono small" data-testid="trigger-example">
        {example}
      </pre>
      <button type="button" onClick={onDone}>
        Done
      </button>
    </div>
  );
};
