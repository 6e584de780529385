import type { ThrottlerStorage } from '@nestjs/throttler';

export type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * In-process slot store with "SET NX PX" semantics: a hit inside a live window is rejected and
 * leaves the window as it is (a rejected request claims nothing). Only `limit` 1 is supported,
 * which is all the per-zone detection throttle needs.
 */
export class MemoryThrottlerStorage implements ThrottlerStorage {
  private readonly slots = new Map<string, number>();
  private lastSweep: number;

  constructor(private readonly clock: () => number = Date.now) {
    this.lastSweep = clock();
  }

  increment(key: string, ttl: number, _limit = 1, _blockDuration = ttl, _throttlerName = ''): Promise<ThrottlerStorageRecord> {
    const now = this.clock();
    this.sweep(now);
    const expiresAt = this.slots.get(key);
    if (expiresAt !== undefined && expiresAt > now) {
      return Promise.resolve(record(2, expiresAt - now));
    }
    this.slots.set(key, now + ttl);
    return Promise.resolve(record(1, ttl));
  }

  /** Drops expired slots now and then so the map stays as small as the set of busy zones. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) {
      return;
    }
    this.lastSweep = now;
    for (const [k, exp] of this.slots) {
      if (exp <= now) {
        this.slots.delete(k);
      }
    }
  }
}

/** `timeToExpire`/`timeToBlockExpire` are whole seconds, rounded up, as in @nestjs/throttler. */
export function record(totalHits: number, remainingMs: number): ThrottlerStorageRecord {
  const seconds = Math.max(1, Math.ceil(remainingMs / 1000));
  const isBlocked = totalHits > 1;
  return { totalHits, timeToExpire: seconds, isBlocked, timeToBlockExpire: isBlocked ? seconds : 0 };
}
