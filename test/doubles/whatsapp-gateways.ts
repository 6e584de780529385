import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { listenTracked } from './listen';

/**
 * Real HTTP servers speaking the two WhatsApp gateways' send APIs (ALERTING.md §3, §8):
 * WAHA `POST /api/sendText` `{"session","chatId":"<digits>@c.us","text"}` with `X-Api-Key`, and
 * GOWA `POST /send/message` `{"phone":"<digits>@s.whatsapp.net","message"}` with HTTP Basic.
 * Method, path, content type, auth and the body's fields are checked strictly; a wrong request
 * is answered 400/401/404/405/415 with a JSON error and recorded in `rejected`.
 */
export type GatewayBehaviour =
  | { ok: true } // 200 with the gateway's success JSON
  | { status: number } // that status with a JSON error
  | { slowMs: number } // 200, after this long
  | { hang: true } // read the request, never answer
  | { bigBody: number } // 200 with a body of this many bytes
  | { redirectTo: string }; // 307 to this URL (clients must not follow)

export interface GatewayMessage {
  provider: 'waha' | 'gowa';
  /** the digits of the chat id (`2348012345678`) */
  phone: string;
  text: string;
  /** what the double answered */
  answered: number | 'hang';
  at: number;
}

export interface RejectedRequest {
  method: string;
  path: string;
  status: number;
  error: string;
}

export interface GatewayDouble {
  url: string;
  provider: 'waha' | 'gowa';
  /** well-formed, authorized send requests, in arrival order (answered ones and hung ones) */
  received: GatewayMessage[];
  /** requests refused for their shape or auth */
  rejected: RejectedRequest[];
  /** default behaviour for every request (initially ok) */
  setDefault(b: GatewayBehaviour): void;
  /** behaviour for the requests to one phone (digits or +E.164); null removes it */
  behaveFor(phone: string, b: GatewayBehaviour | null): void;
  /** resolves with the received messages once `pred` holds for them; rejects after `timeoutMs` */
  waitFor(pred: (received: GatewayMessage[]) => boolean, timeoutMs?: number): Promise<GatewayMessage[]>;
  openConnections(): number;
  close(): Promise<void>;
}

export interface WahaDoubleOptions {
  /** required `X-Api-Key`; null: no key required (and none may be sent) */
  apiKey: string | null;
  /** the session name every request must name */
  session?: string;
}

export interface GowaDoubleOptions {
  /** required `user:pass`; null: no auth required */
  basicAuth: string | null;
}

const MAX_BODY = 256 * 1024;

export function startWahaDouble(opts: WahaDoubleOptions): Promise<GatewayDouble> {
  const session = opts.session ?? 'default';
  return startDouble('waha', '/api/sendText', (req, body) => {
    const key = req.headers['x-api-key'];
    if (opts.apiKey !== null && key !== opts.apiKey) {
      return { status: 401, error: key === undefined ? 'missing X-Api-Key' : 'wrong X-Api-Key' };
    }
    if (opts.apiKey === null && key !== undefined) {
      return { status: 401, error: 'unexpected X-Api-Key' };
    }
    const keys = Object.keys(body).sort().join(',');
    if (keys !== 'chatId,session,text') {
      return { status: 400, error: `expected exactly session, chatId, text; got ${keys}` };
    }
    if (body.session !== session) {
      return { status: 400, error: 'unknown session' };
    }
    const m = typeof body.chatId === 'string' ? /^([1-9][0-9]{7,14})@c\.us$/.exec(body.chatId) : null;
    if (!m) {
      return { status: 400, error: 'chatId must be <digits>@c.us' };
    }
    if (typeof body.text !== 'string' || body.text === '') {
      return { status: 400, error: 'text must be a non-empty string' };
    }
    return { phone: m[1], text: body.text };
  });
}

export function startGowaDouble(opts: GowaDoubleOptions): Promise<GatewayDouble> {
  const expected = opts.basicAuth === null ? null : `Basic ${Buffer.from(opts.basicAuth, 'utf8').toString('base64')}`;
  return startDouble('gowa', '/send/message', (req, body) => {
    const auth = req.headers.authorization;
    if (expected !== null && auth !== expected) {
      return { status: 401, error: auth === undefined ? 'missing basic auth' : 'wrong basic auth' };
    }
    const keys = Object.keys(body).sort().join(',');
    if (keys !== 'message,phone') {
      return { status: 400, error: `expected exactly phone, message; got ${keys}` };
    }
    const m = typeof body.phone === 'string' ? /^([1-9][0-9]{7,14})@s\.whatsapp\.net$/.exec(body.phone) : null;
    if (!m) {
      return { status: 400, error: 'phone must be <digits>@s.whatsapp.net' };
    }
    if (typeof body.message !== 'string' || body.message === '') {
      return { status: 400, error: 'message must be a non-empty string' };
    }
    return { phone: m[1], text: body.message };
  });
}

type Check = (req: IncomingMessage, body: Record<string, unknown>) => { phone: string; text: string } | { status: number; error: string };

async function startDouble(provider: 'waha' | 'gowa', path: string, check: Check): Promise<GatewayDouble> {
  const received: GatewayMessage[] = [];
  const rejected: RejectedRequest[] = [];
  const waiters = new Set<() => void>();
  let fallback: GatewayBehaviour = { ok: true };
  const perPhone = new Map<string, GatewayBehaviour>();
  const notify = (): void => {
    for (const w of [...waiters]) {
      w();
    }
  };

  const reject = (req: IncomingMessage, res: ServerResponse, status: number, error: string): void => {
    rejected.push({ method: req.method ?? '', path: req.url ?? '', status, error });
    json(res, status, provider === 'waha' ? { statusCode: status, message: error, error: 'Bad Request' } : { code: 'ERROR', message: error, results: null });
    notify();
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) {
        chunks.push(c);
      }
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://double');
      if (url.pathname !== path) {
        reject(req, res, 404, `no route ${url.pathname}`);
        return;
      }
      if (req.method !== 'POST') {
        reject(req, res, 405, `method ${req.method ?? ''} not allowed`);
        return;
      }
      if (!/^application\/json(;|$)/i.test(req.headers['content-type'] ?? '')) {
        reject(req, res, 415, 'content-type must be application/json');
        return;
      }
      if (size > MAX_BODY) {
        reject(req, res, 400, 'body too large');
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        reject(req, res, 400, 'body is not JSON');
        return;
      }
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        reject(req, res, 400, 'body must be a JSON object');
        return;
      }
      const r = check(req, body as Record<string, unknown>);
      if ('status' in r) {
        reject(req, res, r.status, r.error);
        return;
      }
      const b = perPhone.get(r.phone) ?? fallback;
      const msg: GatewayMessage = { provider, phone: r.phone, text: r.text, answered: 'hang', at: Date.now() };
      received.push(msg);
      const ok = (): void => {
        msg.answered = 200;
        json(res, 200, provider === 'waha' ? { id: `true_${r.phone}@c.us_${Date.now()}`, _data: {} } : { code: 'SUCCESS', message: 'Success', results: { message_id: String(Date.now()), status: 'sent' } });
      };
      if ('hang' in b) {
        // never answered; the socket stays open until the client gives up or the double closes
      } else if ('slowMs' in b) {
        setTimeout(() => {
          if (!res.destroyed) {
            ok();
          }
        }, b.slowMs);
      } else if ('status' in b) {
        msg.answered = b.status;
        json(res, b.status, { error: `status ${b.status} on purpose` });
      } else if ('redirectTo' in b) {
        msg.answered = 307;
        res.writeHead(307, { location: b.redirectTo, 'content-length': 0 });
        res.end();
      } else if ('bigBody' in b) {
        msg.answered = 200;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`{"pad":"${'x'.repeat(Math.max(0, b.bigBody - 10))}"}`);
      } else {
        ok();
      }
      notify();
    });
  });
  const listening = await listenTracked(server);
  return {
    url: listening.url,
    provider,
    received,
    rejected,
    setDefault: (b) => {
      fallback = b;
    },
    behaveFor: (phone, b) => {
      const digits = phone.replace(/^\+/, '');
      if (b === null) {
        perPhone.delete(digits);
      } else {
        perPhone.set(digits, b);
      }
    },
    waitFor: (pred, timeoutMs = 10000) =>
      new Promise<GatewayMessage[]>((resolve, reject) => {
        const check = (): void => {
          if (pred(received)) {
            cleanup();
            resolve(received);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`gateway double: condition not met within ${timeoutMs} ms; received ${JSON.stringify(received)}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
    openConnections: () => listening.openConnections(),
    close: () => listening.close(),
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
