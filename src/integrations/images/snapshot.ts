import sharp from 'sharp';
import { MAX_INPUT_PIXELS, MAX_SIDE } from '../gemini/image-prep';

/**
 * An alert snapshot (ALERTING.md §5): EXIF-rotated upright, longest side at most 1024 px (never
 * enlarged), JPEG. sharp writes no metadata unless asked (`withMetadata`), so EXIF (GPS, camera
 * serials), ICC and XMP of the upload are all dropped.
 */
export async function encodeSnapshot(input: Buffer, timeoutMs: number): Promise<Buffer> {
  return sharp(input, { limitInputPixels: MAX_INPUT_PIXELS, sequentialRead: true })
    .timeout({ seconds: Math.max(1, Math.ceil(timeoutMs / 1000)) })
    .rotate()
    .resize({ width: MAX_SIDE, height: MAX_SIDE, fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 80 })
    .toBuffer();
}
