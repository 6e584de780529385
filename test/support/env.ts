import { randomBytes } from 'node:crypto';

/**
 * Makes test apps started from now on share one Redis key prefix, as replicas of one deployment
 * do (test-app.ts otherwise gives each app its own), and returns the function that restores the
 * environment afterwards.
 */
export function shareRedisPrefix(label: string): () => void {
  const saved = { REDIS_KEY_PREFIX_FIXED: process.env.REDIS_KEY_PREFIX_FIXED, REDIS_KEY_PREFIX: process.env.REDIS_KEY_PREFIX };
  process.env.REDIS_KEY_PREFIX_FIXED = '1';
  process.env.REDIS_KEY_PREFIX = `ecoflow-test:${label}:${process.pid}:${randomBytes(4).toString('hex')}:`;
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) {
        delete process.env[k];
      } else {
        process.env[k] = v;
      }
    }
  };
}
