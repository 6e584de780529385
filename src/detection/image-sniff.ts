/**
 * Image type and dimensions from the first bytes only (spec §5 steps 5 and 6). Nothing is
 * decoded, so a tiny file that declares 50 000 × 50 000 px is rejected without allocating pixels.
 */
export type ImageType = 'image/jpeg' | 'image/png' | 'image/webp';

export interface ImageInfo {
  mimeType: ImageType;
  width: number;
  height: number;
  /** channels the decoder produces (palette PNGs expand to RGBA, the worst case) */
  channels: number;
  /** bytes per sample once decoded: 2 for 16-bit PNG and 12-bit JPEG, else 1 */
  bytesPerSample: number;
}

type HeaderInfo = Omit<ImageInfo, 'mimeType'>;

export const MAX_IMAGE_PIXELS = 50_000_000;
export const MAX_IMAGE_SIDE = 16384;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The type by magic bytes; the declared Content-Type and the filename are never trusted. */
export function sniffImageType(buf: Buffer): ImageType | null {
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) {
    return 'image/jpeg';
  }
  if (buf.length >= 8 && buf.subarray(0, 8).equals(PNG_SIGNATURE)) {
    return 'image/png';
  }
  if (buf.length >= 12 && buf.toString('latin1', 0, 4) === 'RIFF' && buf.toString('latin1', 8, 12) === 'WEBP') {
    return 'image/webp';
  }
  return null;
}

/** Type and header dimensions, or null when the type is unknown or the header unreadable. */
export function readImageInfo(buf: Buffer): ImageInfo | null {
  const mimeType = sniffImageType(buf);
  let dims: HeaderInfo | null = null;
  switch (mimeType) {
    case 'image/jpeg':
      dims = jpegDimensions(buf);
      break;
    case 'image/png':
      dims = pngDimensions(buf);
      break;
    case 'image/webp':
      dims = webpDimensions(buf);
      break;
    case null:
      return null;
  }
  if (!dims || dims.width <= 0 || dims.height <= 0) {
    return null;
  }
  return { mimeType, ...dims };
}

export function dimensionsAllowed(info: Pick<ImageInfo, 'width' | 'height'>): boolean {
  return info.width <= MAX_IMAGE_SIDE && info.height <= MAX_IMAGE_SIDE && info.width * info.height <= MAX_IMAGE_PIXELS;
}

/**
 * Memory the decoded pixels take (spec §11): a 388 KB interlaced 16-bit RGBA PNG of 7071 × 7071
 * passes the pixel limit but decodes to 400 MB, so the limit is on bytes, not pixels alone.
 */
export function decodedBytes(info: Pick<ImageInfo, 'width' | 'height' | 'channels' | 'bytesPerSample'>): number {
  return info.width * info.height * info.channels * info.bytesPerSample;
}

// PNG colour type → channels: grey, -, RGB, palette (decoded as RGBA at worst), grey+alpha, -, RGBA
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 4, 4: 2, 6: 4 };

function pngDimensions(buf: Buffer): HeaderInfo | null {
  // signature, then the IHDR chunk must come first: length(4) "IHDR" width(4) height(4) depth(1) colour type(1)
  if (buf.length < 26 || buf.toString('latin1', 12, 16) !== 'IHDR') {
    return null;
  }
  const channels = PNG_CHANNELS[buf[25]];
  if (channels === undefined) {
    return null;
  }
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20), channels, bytesPerSample: buf[24] > 8 ? 2 : 1 };
}

// Start-of-frame markers carry the dimensions; C4 (DHT), C8 (JPG) and CC (DAC) do not.
const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

function jpegDimensions(buf: Buffer): HeaderInfo | null {
  let i = 2;
  while (i < buf.length) {
    if (buf[i] !== 0xff) {
      return null;
    }
    while (i < buf.length && buf[i] === 0xff) {
      i += 1; // fill bytes
    }
    if (i >= buf.length) {
      return null;
    }
    const marker = buf[i];
    i += 1;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      continue; // standalone markers have no length
    }
    if (marker === 0xd9 || marker === 0xda) {
      return null; // end of image or scan data before any frame header
    }
    if (i + 2 > buf.length) {
      return null;
    }
    const len = buf.readUInt16BE(i);
    if (len < 2) {
      return null;
    }
    if (SOF_MARKERS.has(marker)) {
      // length(2) precision(1) height(2) width(2) components(1)
      if (i + 8 > buf.length) {
        return null;
      }
      const components = buf[i + 7];
      return {
        height: buf.readUInt16BE(i + 3),
        width: buf.readUInt16BE(i + 5),
        channels: Math.max(1, Math.min(components, 4)),
        bytesPerSample: buf[i + 2] > 8 ? 2 : 1,
      };
    }
    i += len;
  }
  return null;
}

function webpDimensions(buf: Buffer): HeaderInfo | null {
  if (buf.length < 30) {
    return null;
  }
  const chunk = buf.toString('latin1', 12, 16);
  switch (chunk) {
    case 'VP8X':
      // flags byte: bit 4 is "has alpha"
      return { width: buf.readUIntLE(24, 3) + 1, height: buf.readUIntLE(27, 3) + 1, channels: buf[20] & 0x10 ? 4 : 3, bytesPerSample: 1 };
    case 'VP8 ':
      // frame tag (3 bytes), start code 9D 01 2A, then 14-bit width and height
      if (buf[23] !== 0x9d || buf[24] !== 0x01 || buf[25] !== 0x2a) {
        return null;
      }
      return { width: buf.readUInt16LE(26) & 0x3fff, height: buf.readUInt16LE(28) & 0x3fff, channels: 3, bytesPerSample: 1 };
    case 'VP8L': {
      if (buf[20] !== 0x2f) {
        return null;
      }
      const bits = buf.readUInt32LE(21);
      return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, channels: 4, bytesPerSample: 1 };
    }
    default:
      return null;
  }
}
