const EXTENSIONS: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp' };

/**
 * The filename forwarded to the detector (spec §5): the text after the last `/` or `\`, characters
 * outside [A-Za-z0-9._-] replaced by `_` (per code point), leading dots stripped, at most 100
 * characters; `upload.<jpg|png|webp>` when nothing is left. Prevents path traversal on the detector.
 */
export function sanitizeFilename(name: string | null | undefined, mimeType: string): string {
  const base = (name ?? '').split(/[/\\]/).pop() ?? '';
  const cleaned = base
    .replace(/[^A-Za-z0-9._-]/gu, '_')
    .replace(/^\.+/, '')
    .slice(0, 100);
  return cleaned === '' ? `upload.${EXTENSIONS[mimeType] ?? 'jpg'}` : cleaned;
}
