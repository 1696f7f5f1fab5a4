/** A job's trace (docs/tracing.md): a link to the trace viewer when one is set, else the id alone. */
export function TraceLink({ traceId, href }: { traceId: string | null; href: string | null }) {
  if (!traceId || !/^[0-9a-f]{32}$/.test(traceId)) return null;
  // The API builds the link from an http(s) template; anything else is shown as text, never followed.
  const safe = href && /^https?:\/\//i.test(href) ? href : null;
  return safe ? (
    <a href={safe} target="_blank" rel="noreferrer noopener" data-testid="trace-link" title={traceId}>
      Open trace ↗
    </a>
  ) : (
    <span className="small muted" data-testid="trace-link">
      trace <code>{traceId}</code>
    </span>
  );
}
