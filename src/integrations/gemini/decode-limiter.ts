/**
 * At most `limit` image decodes at once in this process (spec §11 IMAGE_DECODE_CONCURRENCY), each
 * bounded in time, queue wait included: decoded pixels are the largest allocations the service makes,
 * so their count, not the request count, bounds memory. Small enough that a library (and its
 * ESM-only packaging) is not worth it.
 */
export class DecodeLimiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}


  /** Runs `task` when a slot is free; rejects with DecodeTimeoutError if it has not finished within `timeoutMs`. */
  async run<T>(task: () => Promise<T>, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    await this.acquire(timeoutMs);
    try {
      return await withTimeout(task(), Math.max(1, deadline - Date.now()));
    } finally {
      this.release();
    }
  }

  private acquire(timeoutMs: number): Promise<void> {
    if (this.active < this.limit) {
      this.active += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const grant = (): void => {
        clearTimeout(timer);
        this.active += 1;
        resolve();
      };
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) {
          this.waiting.splice(i, 1);
        }
        reject(new DecodeTimeoutError('waited too long for a decode slot'));
      }, timeoutMs);
      this.waiting.push(grant);
    });
  }

  private release(): void {
    this.active -= 1;
    this.waiting.shift()?.();
  }
}

export class DecodeTimeoutError extends Error {
  override readonly name = 'DecodeTimeoutError';
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DecodeTimeoutError(`image preparation took over ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
