import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One scripted answer: a tool call (arguments as an object, or raw text that may be broken JSON), plain text, or a stall. */
export type ScriptedReply =
  { tool: string; args: Record<string, unknown> | string } | { content: string } | { stallMs: number };

export interface ReceivedRequest {
  headers: http.IncomingHttpHeaders;
  body: {
    model: string;
    messages: { role: string; content: unknown; tool_call_id?: string }[];
    tools?: { function: { name: string } }[];
    tool_choice?: unknown;
  };
  raw: string;
}

export interface FakeOpenAi {
  /** The base URL to give the client (`.../v1`). */
  baseUrl: string;
  /** Queues replies for the next requests, in order. */
  script(...replies: ScriptedReply[]): void;
  received: ReceivedRequest[];
  close(): Promise<void>;
}

/**
 * A local server that speaks OpenAI's Chat Completions protocol (tool calls included) with
 * scripted replies, standing in for an LLM vendor, which cannot exist on this machine. Bound to
 * 127.0.0.1.
 */
export const startFakeOpenAi = async (): Promise<FakeOpenAi> => {
  const queue: ScriptedReply[] = [];
  const received: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString('utf8')));
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end(
            JSON.stringify({ error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error' } }),
          );
        return;
      }
      const body = JSON.parse(raw) as ReceivedRequest['body'];
      received.push({ headers: req.headers, body, raw });
      const reply = queue.shift();
      if (!reply) {
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: { message: 'the fake has no scripted reply left', type: 'server_error' } }));
        return;
      }
      if ('stallMs' in reply) {
        // Never answers in time: the client's timeout has to fire.
        setTimeout(() => res.destroy(), reply.stallMs).unref();
        return;
      }
      const message =
        'tool' in reply
          ? {
              role: 'assistant',
              content: null,
              tool_calls: [
                {
                  id: `call_${randomUUID().slice(0, 8)}`,
                  type: 'function',
                  function: {
                    name: reply.tool,
                    arguments: typeof reply.args === 'string' ? reply.args : JSON.stringify(reply.args),
                  },
                },
              ],
            }
          : { role: 'assistant', content: reply.content };
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: `chatcmpl-${randomUUID()}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: body.model,
          choices: [{ index: 0, message, finish_reason: 'tool' in reply ? 'tool_calls' : 'stop', logprobs: null }],
          usage: {
            prompt_tokens: Math.ceil(raw.length / 4),
            completion_tokens: 50,
            total_tokens: Math.ceil(raw.length / 4) + 50,
          },
        }),
      );
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    script: (...replies) => queue.push(...replies),
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
};
