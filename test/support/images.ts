import { deflateSync } from 'node:zlib';
import sharp from 'sharp';

/** Real encoded test images (sharp), so magic bytes and headers are what devices send. */
export function jpeg(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 90, g: 140, b: 200 } } }).jpeg({ quality: 80 }).toBuffer();
}

export function png(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: { r: 10, g: 200, b: 30, alpha: 0.5 } } }).png().toBuffer();
}

export function webp(width: number, height: number, opts: { lossless?: boolean; alpha?: boolean } = {}): Promise<Buffer> {
  const channels = opts.alpha ? 4 : 3;
  return sharp({ create: { width, height, channels, background: { r: 200, g: 30, b: 30, alpha: 0.5 } } }).webp({ lossless: opts.lossless ?? false }).toBuffer();
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) {
    c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) {
    c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** One PNG chunk: length, type, data, CRC. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/**
 * A tiny PNG (well-formed signature and IHDR, a few bytes of IDAT) that declares `width × height`:
 * a decompression bomb's header without the bomb.
 */
export function pngDeclaring(width: number, height: number): Buffer {
  const chunk = pngChunk;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A JPEG header (SOI, APP0, SOF0) declaring `width × height`, with no scan data. */
export function jpegDeclaring(width: number, height: number): Buffer {
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]);
  const sof = Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, 0, 0, 0, 0, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
  sof.writeUInt16BE(height, 5);
  sof.writeUInt16BE(width, 7);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof, Buffer.from([0xff, 0xd9])]);
}

/** The multipart body a sensor sends to /sensor/detect/. */
export function detectForm(parts: { zoneId?: string | number; cameraId?: string | number; file?: Buffer; filename?: string; type?: string; extra?: [string, string][] }): FormData {
  const form = new FormData();
  if (parts.zoneId !== undefined) {
    form.append('zone_id', String(parts.zoneId));
  }
  if (parts.cameraId !== undefined) {
    form.append('camera_id', String(parts.cameraId));
  }
  for (const [k, v] of parts.extra ?? []) {
    form.append(k, v);
  }
  if (parts.file !== undefined) {
    form.append('file', new Blob([new Uint8Array(parts.file)], { type: parts.type ?? 'image/jpeg' }), parts.filename ?? 'capture.jpg');
  }
  return form;
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
