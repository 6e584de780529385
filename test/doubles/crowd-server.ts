import busboy from 'busboy';
import { createHash } from 'node:crypto';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenTracked } from './listen';

/**
 * A real HTTP server speaking the crowd-prediction detector's protocol (spec §9), driven per request
 * by tests: the production client talks to it over the wire, unmodified.
 */
export type CrowdBehaviour =
  | { count: number | string; delayMs?: number } // 200 {"filename":…, "sahi_count": count, …}
  | { status: number; body?: string | object; delayMs?: number } // any status/body (e.g. 500 {"error":"boom"})
  | { json: unknown; delayMs?: number } // 200 with this exact JSON (e.g. missing sahi_count)
  | { hang: true } // read the request, never answer
  | { reset: true } // destroy the socket after reading the request
  | { resetMidBody: true } // send headers + part of the body, then destroy
  | { garbage: true } // 200 with a non-JSON body
  | { drip: { chunks: number; intervalMs: number } }; // 200 headers at once, then a valid body one byte per interval (chunks bytes in all)

export interface CrowdRequest {
  /** filename of the `file` part ('' when there was none) */
  filename: string;
  /** MIME type of the `file` part */
  mimeType: string;
  /** bytes of the `file` part */
  size: number;
  /** SHA-256 (hex) of the `file` part's bytes */
  sha256: string;
  /** names of every multipart part in order, file parts included (e.g. ['file']) */
  fields: string[];
  /** Date.now() when the request was fully read */
  at: number;
}

export interface CrowdServer {
  url: string;
  predictUrl: string;
  received: CrowdRequest[];
  healthStatus: number;
  setDefault(b: CrowdBehaviour): void;
  enqueue(...b: CrowdBehaviour[]): void;
  /** picks the behaviour per request (e.g. by filename) before the queue and the default; null removes it */
  setRouter(fn: ((r: CrowdRequest) => CrowdBehaviour | undefined) | null): void;
  /** TCP connections currently open to this server, idle keep-alive ones included */
  openConnections(): number;
  /** closes keep-alive connections that carry no request (http.Server#closeIdleConnections) */
  closeIdleConnections(): void;
  close(): Promise<void>;
}

interface ParsedUpload {
  request: CrowdRequest;
  hasFile: boolean;
}

function parseMultipart(req: IncomingMessage): Promise<ParsedUpload> {
  return new Promise((resolve) => {
    const request: CrowdRequest = { filename: '', mimeType: '', size: 0, sha256: '', fields: [], at: 0 };
    const hash = createHash('sha256');
    let hasFile = false;
    const done = (): void => {
      request.at = Date.now();
      resolve({ request, hasFile });
    };
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers });
    } catch {
      // not multipart: drain and report "no file"
      req.resume();
      req.on('end', done);
      req.on('error', done);
      return;
    }
    bb.on('file', (name, stream, info) => {
      request.fields.push(name);
      if (name === 'file' && !hasFile) {
        hasFile = true;
        request.filename = info.filename ?? '';
        request.mimeType = info.mimeType;
        stream.on('data', (chunk: Buffer) => {
          request.size += chunk.length;
          hash.update(chunk);
        });
        stream.on('end', () => {
          request.sha256 = hash.digest('hex');
        });
      } else {
        stream.resume();
      }
    });
    bb.on('field', (name) => {
      request.fields.push(name);
    });
    bb.on('close', done);
    bb.on('error', () => {
      req.resume();
      done();
    });
    req.pipe(bb);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startCrowdServer(opts: { port?: number } = {}): Promise<CrowdServer> {
  let defaultBehaviour: CrowdBehaviour = { count: 3 };
  const queue: CrowdBehaviour[] = [];
  const received: CrowdRequest[] = [];
  let router: ((r: CrowdRequest) => CrowdBehaviour | undefined) | null = null;

  const handlePredict = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const { request, hasFile } = await parseMultipart(req);
    received.push(request);
    const b = router?.(request) ?? queue.shift() ?? defaultBehaviour;
    if ('delayMs' in b && b.delayMs) {
      await sleep(b.delayMs);
    }
    if ('hang' in b) {
      return; // never answer; close() destroys the socket
    }
    if ('reset' in b) {
      req.socket.destroy();
      return;
    }
    if ('resetMidBody' in b) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '200' });
      res.write('{"filename":"x.jpg","sahi_co');
      setTimeout(() => req.socket.destroy(), 20);
      return;
    }
    if ('garbage' in b) {
      sendJson(res, 200, '<html>definitely not json</html>');
      return;
    }
    if ('drip' in b) {
      // valid JSON once complete, so only a client that bounds the read phase gives up
      const head = '{"sahi_count":3';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(head);
      for (let i = 0; i < b.drip.chunks && !res.destroyed; i += 1) {
        await sleep(b.drip.intervalMs);
        if (!res.destroyed) {
          res.write(' ');
        }
      }
      if (!res.destroyed) {
        res.end('}');
      }
      return;
    }
    if ('status' in b) {
      sendJson(res, b.status, b.body ?? '');
      return;
    }
    if ('json' in b) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(b.json));
      return;
    }
    if (!hasFile) {
      sendJson(res, 400, { error: 'No file part' });
      return;
    }
    sendJson(res, 200, {
      filename: request.filename,
      sahi_count: b.count,
      gemini_count: null,
      calculation_result: null,
      formula: 'test double',
      message: 'Prediction successful',
    });
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/health') {
      req.resume();
      sendJson(res, handle.healthStatus, { status: handle.healthStatus < 300 ? 'online' : 'down' });
      return;
    }
    if (req.method === 'POST' && path === '/predict') {
      handlePredict(req, res).catch(() => req.socket.destroy());
      return;
    }
    req.resume();
    sendJson(res, 404, { error: 'Not found' });
  });
  const listening = await listenTracked(server, opts.port);
  const url = listening.url;

  const handle: CrowdServer = {
    url,
    predictUrl: `${url}/predict`,
    received,
    healthStatus: 200,
    setDefault(b) {
      defaultBehaviour = b;
    },
    enqueue(...b) {
      queue.push(...b);
    },
    setRouter(fn) {
      router = fn;
    },
    openConnections: listening.openConnections,
    closeIdleConnections: listening.closeIdleConnections,
    close: listening.close,
  };
  return handle;
}

/** A URL on which nothing listens (connection refused). */
export async function unusedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/predict`;
}
