import sharp from 'sharp';

/*
 * Process-wide sharp settings, applied once at module load:
 * - concurrency(1): libvips threads per image. Requests already run in parallel on libuv's pool
 *   (UV_THREADPOOL_SIZE, 4 by default); one thread per image avoids oversubscribing the
 *   1–2 vCPUs of a Cloud Run instance.
 * - cache(false): the operation cache only helps when the same file is processed repeatedly;
 *   every upload is new, so it would just hold memory.
 */
sharp.concurrency(1);
sharp.cache(false);

/** Longest side sent to Gemini (spec §5 step 2). */
export const MAX_SIDE = 1024;
/** Refuse to decode more pixels than the upload check allows (decompression bombs). */
export const MAX_INPUT_PIXELS = 50_000_000;

export interface PreparedImage {
  jpeg: Buffer;
  width: number;
  height: number;
}

/**
 * EXIF-rotates, shrinks so the longest side is at most 1024 px (never enlarges; sharp decodes JPEG
 * and WebP at a reduced scale when it can, "shrink-on-load", and then resizes to exactly 1024),
 * flattens transparency onto white and encodes JPEG quality 85.
 */
export async function prepareImageForGemini(input: Buffer): Promise<PreparedImage> {
  const { data, info } = await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS, sequentialRead: true })
    .rotate()
    .resize({ width: MAX_SIDE, height: MAX_SIDE, fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 85 })
    .toBuffer({ resolveWithObject: true });
  return { jpeg: data, width: info.width, height: info.height };
}
