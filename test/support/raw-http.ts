import net from 'node:net';
import { deflateSync } from 'node:zlib';

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

/**
 * A real, decodable PNG whose pixels are all zero: tiny on the wire, `width × height × channels ×
 * bytes` once decoded. Adam7 interlacing makes libvips decode the whole image at once.
 */
export function pngBomb(width: number, height: number, opts: { bitDepth?: 8 | 16; colourType?: 2 | 6; interlace?: boolean } = {}): Buffer {
  const bitDepth = opts.bitDepth ?? 8;
  const colourType = opts.colourType ?? 2;
  const channels = colourType === 6 ? 4 : 3;
  const bpp = (channels * bitDepth) / 8;
  const passes = opts.interlace
    ? [
        [0, 0, 8, 8],
        [4, 0, 8, 8],
        [0, 4, 4, 8],
        [2, 0, 4, 4],
        [0, 2, 2, 4],
        [1, 0, 2, 2],
        [0, 1, 1, 2],
      ]
    : [[0, 0, 1, 1]];
  let raw = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const w = Math.ceil((width - x0) / dx);
    const h = Math.ceil((height - y0) / dy);
    if (w > 0 && h > 0) {
      raw += h * (1 + w * bpp);
    }
  }
  // all-zero scanlines (filter byte 0 and black pixels) compress about 1000:1
  const idat = deflateZeros(raw);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colourType;
  ihdr[12] = opts.interlace ? 1 : 0;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND', Buffer.alloc(0))]);
}

function deflateZeros(n: number): Buffer {
  return deflateSync(Buffer.alloc(n), { level: 1 });
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) {
      c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    }
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) {
    c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}
