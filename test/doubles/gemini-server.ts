import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import sharp from 'sharp';
import { listenTracked } from './listen';

/**
 * A real HTTP server speaking Gemini's `generateContent` (spec §9), driven per request by tests.
 * The production GeminiClient (the real @google/genai SDK) talks to it through GEMINI_BASE_URL.
 */
export type GeminiBehaviour =
  | { text: string; delayMs?: number } // 200 candidates[0].content.parts[0].text
  | { status: number; message?: string; retryDelay?: string; retryAfter?: string; delayMs?: number } // Google error envelope
  | { blocked: true }
  | { hang: true }
  | { reset: true }
  | { resetMidBody: true } // 200 headers and part of the JSON, then the socket is destroyed
  | { garbage: true };

export interface GeminiRequest {
  model: string;
  apiKey: string | undefined;
  body: any;
  imageWidth?: number;
  imageHeight?: number;
  imageBytes?: number;
  /** format sharp detected in the inline image (e.g. 'jpeg') */
  imageFormat?: string;
  at: number;
}

export interface GeminiServer {
  url: string;
  received: GeminiRequest[];
  setDefault(b: GeminiBehaviour): void;
  enqueue(...b: GeminiBehaviour[]): void;
  /** TCP connections currently open to this server, idle keep-alive ones included */
  openConnections(): number;
  /** closes keep-alive connections that carry no request (http.Server#closeIdleConnections) */
  closeIdleConnections(): void;
  close(): Promise<void>;
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/html' : 'application/json; charset=UTF-8', ...headers });
  res.end(text);
}

async function describeImage(body: any, into: GeminiRequest): Promise<void> {
  const parts: any[] = body?.contents?.[0]?.parts ?? [];
  const inline = parts.find((p) => p && typeof p === 'object' && p.inlineData)?.inlineData;
  if (!inline || typeof inline.data !== 'string') {
    return;
  }
  const bytes = Buffer.from(inline.data, 'base64');
  into.imageBytes = bytes.length;
  try {
    const meta = await sharp(bytes).metadata();
    into.imageWidth = meta.width;
    into.imageHeight = meta.height;
    into.imageFormat = meta.format;
  } catch {
    // not an image: leave the dimensions unset
  }
}

export async function startGeminiServer(opts: { port?: number } = {}): Promise<GeminiServer> {
  let defaultBehaviour: GeminiBehaviour = { text: '5' };
  const queue: GeminiBehaviour[] = [];
  const received: GeminiRequest[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse, model: string): Promise<void> => {
    const raw = await readBody(req);
    let body: any = null;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      body = raw.toString('utf8');
    }
    const key = req.headers['x-goog-api-key'];
    const record: GeminiRequest = { model, apiKey: Array.isArray(key) ? key[0] : key, body, at: Date.now() };
    received.push(record);
    await describeImage(body, record); // before answering, so a test sees the size once the call returns

    const b = queue.shift() ?? defaultBehaviour;
    if ('delayMs' in b && b.delayMs) {
      await sleep(b.delayMs);
    }
    if ('hang' in b) {
      return;
    }
    if ('reset' in b) {
      req.socket.destroy();
      return;
    }
    if ('garbage' in b) {
      send(res, 200, '<html>not json</html>');
      return;
    }
    if ('resetMidBody' in b) {
      res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8', 'content-length': '400' });
      res.write('{"candidates":[{"content":{"role":"model","parts":[{"te');
      setTimeout(() => req.socket.destroy(), 20);
      return;
    }
    if ('blocked' in b) {
      send(res, 200, { promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 10, totalTokenCount: 10 } });
      return;
    }
    if ('status' in b) {
      const details = b.retryDelay === undefined ? [] : [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: b.retryDelay }];
      const headers: Record<string, string> = b.retryAfter === undefined ? {} : { 'retry-after': b.retryAfter };
      send(
        res,
        b.status,
        { error: { code: b.status, message: b.message ?? `test double error ${b.status}`, status: STATUS_NAMES[b.status] ?? 'UNKNOWN', ...(details.length ? { details } : {}) } },
        headers,
      );
      return;
    }
    send(res, 200, {
      candidates: [{ content: { role: 'model', parts: [{ text: b.text }] }, finishReason: 'STOP', index: 0 }],
      usageMetadata: { promptTokenCount: 260, candidatesTokenCount: 1, totalTokenCount: 261 },
      modelVersion: model,
    });
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const m = /^\/v1beta\/models\/([^/:]+):generateContent$/.exec(path);
    if (req.method === 'POST' && m) {
      handle(req, res, decodeURIComponent(m[1])).catch(() => req.socket.destroy());
      return;
    }
    req.resume();
    send(res, 404, { error: { code: 404, message: `no route ${req.method ?? ''} ${path}`, status: 'NOT_FOUND' } });
  });
  const listening = await listenTracked(server, opts.port);
  return {
    url: listening.url,
    received,
    setDefault(b) {
      defaultBehaviour = b;
    },
    enqueue(...b) {
      queue.push(...b);
    },
    openConnections: listening.openConnections,
    closeIdleConnections: listening.closeIdleConnections,
    close: listening.close,
  };
}
