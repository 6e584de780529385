import sharp from 'sharp';
import { MAX_INPUT_PIXELS, targetSide } from '../gemini/image-prep';

/**
 * An alert snapshot (ALERTING.md §5): EXIF-rotated upright, longest side at most 1024 px (never
 * enlarged), JPEG. sharp writes no metadata unless asked (`withMetadata`), so EXIF (GPS, camera
 * serials), ICC and XMP of the upload are all dropped.
 *
 * A large JPEG is shrunk by the smallest power of two that fits (1920 → 960), as for Gemini
 * (image-prep.ts): libjpeg then decodes at 1/2, 1/4 or 1/8 scale and the snapshot costs a
 * fraction of a full decode.
 */
export async function encodeSnapshot(input: Buffer, timeoutMs: number): Promise<Buffer> {
  const meta = await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS }).metadata();
  const side = targetSide(Math.max(meta.width ?? 0, meta.height ?? 0), meta.format);
  return sharp(input, { limitInputPixels: MAX_INPUT_PIXELS, sequentialRead: true })
    .timeout({ seconds: Math.max(1, Math.ceil(timeoutMs / 1000)) })
    .rotate()
    .resize({ width: side, height: side, fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 80 })
    .toBuffer();
}
