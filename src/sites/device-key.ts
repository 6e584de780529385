import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Device keys are `ecd_` + 43 base64url characters (32 random bytes); only the SHA-256 is stored. */
export function generateDeviceKey(): { key: string; hash: string } {
  const key = `ecd_${randomBytes(32).toString('base64url')}`;
  return { key, hash: hashDeviceKey(key) };
}

export function hashDeviceKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Constant-time comparison of a presented key with a stored hash. */
export function deviceKeyMatches(key: string, storedHash: string | null): boolean {
  if (!storedHash) {
    return false;
  }
  const a = Buffer.from(hashDeviceKey(key), 'hex');
  const b = Buffer.from(storedHash.trim(), 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
