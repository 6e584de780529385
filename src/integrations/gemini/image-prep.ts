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

/** A JPEG within 1024 px is sent unchanged only up to this size (a 1024 px camera JPEG is ~0.3 MB). */
export const PASSTHROUGH_MAX_BYTES = 1024 * 1024;

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
 * EXIF-rotates, shrinks so the longest side is at most 1024 px (never enlarges), flattens
 * transparency onto white and encodes JPEG quality 85.
 *
 * Speed (docs/performance.md): the spec allows any longest side in 512–1024, so a large JPEG is
 * shrunk by the smallest power of two that fits (1920 → 960): libjpeg then decodes directly at
 * 1/2, 1/4 or 1/8 scale ("shrink-on-load") and no resampling pass is needed. A JPEG already
 * within 1024 px with no EXIF rotation is sent as it is, with no decode at all.
 */
export async function prepareImageForGemini(input: Buffer, timeoutMs = 10000): Promise<PreparedImage> {
  const meta = await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS }).metadata();
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  const longest = Math.max(width, height);
  const upright = meta.orientation === undefined || meta.orientation === 1;
  // a small upright JPEG goes as it is; a large file (trailing junk, huge metadata) is re-encoded so
  // Gemini's request (base64, JSON) is not a multiple of an attacker's 10 MiB
  if (meta.format === 'jpeg' && longest > 0 && longest <= MAX_SIDE && upright && input.length <= PASSTHROUGH_MAX_BYTES) {
    return { jpeg: input, width, height };
  }
  const { data, info } = await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS, sequentialRead: true })
    // libvips stops the pipeline itself, so a hostile image cannot keep a worker thread busy after we gave up
    .timeout({ seconds: Math.max(1, Math.ceil(timeoutMs / 1000)) })
    .rotate()
    .resize({ width: targetSide(longest, meta.format), height: targetSide(longest, meta.format), fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 85 })
    .toBuffer({ resolveWithObject: true });
  return { jpeg: data, width: info.width, height: info.height };
}

/** The longest side to resize to: a JPEG shrink-on-load step when one lands in 512–1024, else 1024. */
export function targetSide(longest: number, format: string | undefined): number {
  if (longest <= MAX_SIDE) {
    return MAX_SIDE;
  }
  if (format === 'jpeg') {
    for (const factor of [2, 4, 8]) {
      const side = Math.ceil(longest / factor);
      if (side <= MAX_SIDE) {
        return side;
      }
    }
  }
  return MAX_SIDE;
}
