import { recordAnswer } from './api.js';

/** One Server-Sent Event as a client sees it. */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
  receivedAt: number;
}

/**
 * Reads an SSE stream with fetch until `stop` says so, the server ends it, or `timeoutMs` passes.
 * Parses the wire format itself (id, event, data lines; comments ignored), as a browser would.
 */
export const readEvents = async (
  url: string,
  options: { token: string; lastEventId?: string; timeoutMs?: number; stop?: (events: SseEvent[]) => boolean },
): Promise<SseEvent[]> => {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 60_000);
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${options.token}`, accept: 'text/event-stream', ...(options.lastEventId && { 'last-event-id': options.lastEventId }) },
    signal: controller.signal,
  });
  if (res.status !== 200 || !res.body) throw new Error(`SSE ${url}: ${res.status} ${await res.text()}`);
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event: SseEvent = { event: 'message', data: '', receivedAt: Date.now() };
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':') || !line) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id') event.id = value;
          else if (field === 'event') event.event = value;
          else if (field === 'data') data.push(value);
        }
        if (data.length === 0 && event.id === undefined && event.event === 'message') continue;
        event.data = data.join('\n');
        events.push(event);
        if (options.stop?.(events)) return events;
      }
    }
  } catch (err) {
    if (!controller.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    controller.abort();
    recordAnswer(url, events.map((e) => e.data).join('\n'));
  }
  return events;
};
