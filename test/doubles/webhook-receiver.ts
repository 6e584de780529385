import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';

/**
 * A real webhook receiver (ALERTING.md §8): a local HTTP server that verifies every request with
 * the reference `standardwebhooks` package and answers as the test tells it (ok, any status with
 * Retry-After/Location, slowly, never, by resetting the connection, or with a big body).
 */
export type ReceiverBehaviour =
  | { kind: 'ok' }
  | { kind: 'status'; status: number; retryAfter?: string; location?: string }
  | { kind: 'slow'; ms: number }
  | { kind: 'hang' }
  | { kind: 'reset' }
  | { kind: 'big'; bytes: number };

export interface ReceivedWebhook {
  webhookId: string;
  timestamp: string;
  signature: string;
  body: string;
  json: any;
  verified: boolean;
  verifyError?: string;
  receivedAt: number;
  headers: Record<string, string | string[] | undefined>;
}

export interface WebhookReceiver {
  /** http://127.0.0.1:<port>/hook */
  url: string;
  port: number;
  /** every request, verified or not, in arrival order */
  received: ReceivedWebhook[];
  /** whsec_ secrets to verify with (a request passes if any verifies) */
  setSecrets(secrets: string[]): void;
  /** default ok; a function is asked per request with the request and its 1-based number among all received */
  behave(b: ReceiverBehaviour | ((req: ReceivedWebhook, n: number) => ReceiverBehaviour)): void;
  /** rejects with a clear message on timeout (default 15 s) */
  waitFor(pred: (received: ReceivedWebhook[]) => boolean, timeoutMs?: number): Promise<void>;
  /** stop listening (connections refused), keep state */
  down(): Promise<void>;
  /** listen again on the same port */
  up(): Promise<void>;
  close(): Promise<void>;
}

const header = (v: string | string[] | undefined): string => (Array.isArray(v) ? v.join(', ') : (v ?? ''));

export async function startWebhookReceiver(opts: { port?: number } = {}): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  let secrets: string[] = [];
  let behaviour: ReceiverBehaviour | ((req: ReceivedWebhook, n: number) => ReceiverBehaviour) = { kind: 'ok' };
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const verify = (body: string, h: IncomingMessage['headers']): { verified: boolean; verifyError?: string } => {
    if (!secrets.length) {
      return { verified: false, verifyError: 'no secret set (call setSecrets)' };
    }
    const headers = { 'webhook-id': header(h['webhook-id']), 'webhook-timestamp': header(h['webhook-timestamp']), 'webhook-signature': header(h['webhook-signature']) };
    const errors: string[] = [];
    for (const s of secrets) {
      try {
        new Webhook(s).verify(body, headers);
        return { verified: true };
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    return { verified: false, verifyError: errors.join('; ') };
  };

  const respond = (b: ReceiverBehaviour, req: IncomingMessage, res: ServerResponse): void => {
    switch (b.kind) {
      case 'ok':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
        return;
      case 'status': {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (b.retryAfter !== undefined) {
          headers['retry-after'] = b.retryAfter;
        }
        if (b.location !== undefined) {
          headers.location = b.location;
        }
        res.writeHead(b.status, headers).end(JSON.stringify({ status: b.status }));
        return;
      }
      case 'slow': {
        const t = setTimeout(() => {
          timers.delete(t);
          if (!res.destroyed) {
            res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
          }
        }, b.ms);
        timers.add(t);
        return;
      }
      case 'hang':
        return; // never answers; close() destroys the socket
      case 'reset':
        req.socket.destroy();
        return;
      case 'big': {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(b.bytes) });
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        let left = b.bytes;
        const pump = (): void => {
          while (left > 0 && !res.destroyed) {
            const n = Math.min(left, chunk.length);
            left -= n;
            if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
              res.once('drain', pump);
              return;
            }
          }
          if (!res.destroyed) {
            res.end();
          }
        };
        res.on('error', () => undefined); // the sender stops reading and closes: expected
        pump();
        return;
      }
    }
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const r: ReceivedWebhook = {
        webhookId: header(req.headers['webhook-id']),
        timestamp: header(req.headers['webhook-timestamp']),
        signature: header(req.headers['webhook-signature']),
        body,
        json,
        ...verify(body, req.headers),
        receivedAt: Date.now(),
        headers: { ...req.headers },
      };
      received.push(r);
      const b = typeof behaviour === 'function' ? behaviour(r, received.length) : behaviour;
      respond(b, req, res);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  });

  const listen = (port: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stop = (): Promise<void> =>
    new Promise<void>((resolve) => {
      for (const t of timers) {
        clearTimeout(t);
      }
      timers.clear();
      if (!server.listening) {
        resolve();
        return;
      }
      server.close(() => resolve());
      for (const s of sockets) {
        s.destroy();
      }
    });

  await listen(opts.port ?? 0);
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    received,
    setSecrets(s) {
      secrets = [...s];
    },
    behave(b) {
      behaviour = b;
    },
    async waitFor(pred, timeoutMs = 15000) {
      const deadline = Date.now() + timeoutMs;
      while (!pred(received)) {
        if (Date.now() > deadline) {
          const seen = received.map((r, i) => `#${i + 1} ${r.webhookId} ${r.json?.type ?? '?'} verified=${r.verified}${r.verifyError ? ` (${r.verifyError})` : ''}`);
          throw new Error(`webhook receiver: condition not met within ${timeoutMs} ms; ${received.length} request(s) received${seen.length ? `:\n  ${seen.join('\n  ')}` : ''}`);
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    down: stop,
    up: () => listen(port),
    close: stop,
  };
}
