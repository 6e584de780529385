import net from 'node:net';

/** What came back on a raw connection: the parsed response (status 0 if none) and how the socket ended. */
export interface RawReply {
  status: number;
  headers: Record<string, string>;
  text: string;
  body: any;
  /** the server closed (or reset) the connection */
  closed: boolean;
  /** request bytes this side managed to write before the answer or the close */
  bytesWritten: number;
  ms: number;
}

export type Writer = (socket: net.Socket, stopped: () => boolean) => Promise<void>;

/**
 * One request on its own TCP connection, written exactly as given (hostile framing included),
 * read until a whole response arrived or the server closed the connection.
 */
export function rawRequest(port: number, write: Writer | string | Buffer, opts: { timeoutMs?: number; readAll?: boolean } = {}): Promise<RawReply> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) {
        return;
      }
      done = true;
      clearTimeout(timer);
      const reply = parse(buf);
      socket.destroy();
      resolve({ ...reply, closed, bytesWritten: socket.bytesWritten, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), opts.timeoutMs ?? 15000);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const r = parse(buf);
      // readAll: keep the connection open after a whole response, to see when the server closes it
      if (r.complete && !opts.readAll) {
        finish(false);
      }
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('connect', () => {
      const w: Writer = typeof write === 'function' ? write : async (s) => void s.write(write);
      w(socket, () => done).catch(() => undefined);
    });
  });
}

function parse(buf: Buffer): Omit<RawReply, 'closed' | 'bytesWritten' | 'ms'> & { complete: boolean } {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) {
    return { status: 0, headers: {}, text: '', body: undefined, complete: false };
  }
  const [statusLine, ...lines] = buf.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) {
      headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
  }
  const rest = buf.subarray(end + 4);
  const len = headers['content-length'] === undefined ? null : Number(headers['content-length']);
  const complete = len !== null && rest.length >= len;
  const text = rest.subarray(0, len ?? rest.length).toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status, headers, text, body, complete };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Writes `total` bytes of `fill` in chunks, stopping early when the server answered or closed. */
export function stream(head: string | Buffer, total: number, opts: { chunk?: number; fill?: number; tail?: string } = {}): Writer {
  return async (socket, stopped) => {
    socket.write(head);
    const chunk = Buffer.alloc(opts.chunk ?? 64 * 1024, opts.fill ?? 0x41);
    let sent = 0;
    while (sent < total && !stopped() && !socket.destroyed) {
      const n = Math.min(chunk.length, total - sent);
      const ok = socket.write(n === chunk.length ? chunk : chunk.subarray(0, n));
      sent += n;
      if (!ok) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, 200);
          socket.once('drain', () => {
            clearTimeout(t);
            r();
          });
        });
      }
    }
    if (opts.tail && !stopped() && !socket.destroyed) {
      socket.write(opts.tail);
    }
  };
}

/** Chunked transfer framing of `data` (one chunk). */
export function chunked(data: Buffer | string): Buffer {
  const b = Buffer.isBuffer(data) ? data : Buffer.from(data);
  return Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]);
}
