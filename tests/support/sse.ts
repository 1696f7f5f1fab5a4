import { recordAnswer } from './api.js';

/** One Server-Sent Event as a client sees it. */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
  receivedAt: number;
}

/** Parses one event block (the text between blank lines) as a browser would: id, event, data lines; comments ignored. */
const parseBlock = (block: string): SseEvent | undefined => {
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
  if (data.length === 0 && event.id === undefined && event.event === 'message') return undefined;
  event.data = data.join('\n');
  return event;
};

/** Reads a response's event blocks as they arrive, calling `onEvent` for each; stops when it returns true. */
const pump = async (body: ReadableStream<Uint8Array>, onEvent: (event: SseEvent) => boolean): Promise<void> => {
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = parseBlock(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (event && onEvent(event)) return;
    }
  }
};

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
    headers: {
      authorization: `Bearer ${options.token}`,
      accept: 'text/event-stream',
      ...(options.lastEventId && { 'last-event-id': options.lastEventId }),
    },
    signal: controller.signal,
  });
  if (res.status !== 200 || !res.body) throw new Error(`SSE ${url}: ${res.status} ${await res.text()}`);
  const events: SseEvent[] = [];
  try {
    await pump(res.body, (event) => {
      events.push(event);
      return options.stop?.(events) ?? false;
    });
  } catch (err) {
    if (!controller.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    controller.abort();
    recordAnswer(url, events.map((e) => e.data).join('\n'));
  }
  return events;
};

/** A stream left open: its answer, the events so far, and a way to hang up. */
export interface OpenEventStream {
  status: number;
  /** The JSON error body of a refused stream. */
  error?: { type: string; message: string };
  events: SseEvent[];
  /** Settles when the server ends the stream or `close` is called. */
  ended: Promise<void>;
  close(): void;
}

/** Opens an SSE stream and keeps reading it in the background until the server ends it or `close`. */
export const openEventStream = async (
  url: string,
  options: { token: string; lastEventId?: string },
): Promise<OpenEventStream> => {
  const controller = new AbortController();
  const res = await fetch(url, {
    headers: {
      authorization: `Bearer ${options.token}`,
      accept: 'text/event-stream',
      ...(options.lastEventId && { 'last-event-id': options.lastEventId }),
    },
    signal: controller.signal,
  });
  const close = () => controller.abort();
  if (res.status !== 200 || !res.body) {
    const text = await res.text();
    return {
      status: res.status,
      error: (JSON.parse(text) as { error: { type: string; message: string } }).error,
      events: [],
      ended: Promise.resolve(),
      close,
    };
  }
  const events: SseEvent[] = [];
  const ended = pump(res.body, (event) => {
    events.push(event);
    return false;
  }).catch((err: unknown) => {
    if (!controller.signal.aborted) throw err;
  });
  return { status: res.status, events, ended, close };
};
