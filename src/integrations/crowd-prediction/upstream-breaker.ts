import type { BreakerConfig } from '../../config/config';
import { BrokenCircuitError, circuitBreaker, CircuitBreakerPolicy, CircuitState, ConsecutiveBreaker, handleWhen, IsolatedCircuitError } from 'cockatiel';
import type { AppLogger } from '../../common/logger';

/** Shared by the crowd and Gemini clients: one breaker per downstream (cockatiel). */

export type BreakerState = 'closed' | 'open' | 'half_open';

/** The validated CROWD_/GEMINI_BREAKER_* settings (config.ts). */
export type BreakerSettings = BreakerConfig;

/** Thrown instead of calling the downstream while the circuit is open (or a probe is in flight). */
export class BreakerOpenError extends Error {
  constructor(readonly upstream: string) {
    super(`${upstream} circuit is open`);
    this.name = 'BreakerOpenError';
  }
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown; outage: boolean };

class OutageSignal {
  constructor(readonly error: unknown) {}
}

/**
 * Wraps every call to one downstream. Only failures classified as outages (refused, timeout, 5xx…)
 * count toward opening; a 4xx or a bad answer proves the server is reachable and counts as success.
 * While open, and while the single half-open probe is in flight, calls fail at once.
 */
export class UpstreamBreaker {
  private readonly policy: CircuitBreakerPolicy;

  constructor(
    private readonly upstream: string,
    readonly settings: BreakerSettings,
    logger: AppLogger,
  ) {
    this.policy = circuitBreaker(
      handleWhen((e) => e instanceof OutageSignal),
      { halfOpenAfter: settings.halfOpenAfterMs, breaker: new ConsecutiveBreaker(settings.failureThreshold) },
    );
    this.policy.onStateChange((s) => {
      const state = toState(s);
      const fields = { upstream, circuit: state };
      if (state === 'open') {
        logger.warn({ ...fields, half_open_after_ms: settings.halfOpenAfterMs }, `${upstream} circuit opened; failing fast`);
      } else {
        logger.info(fields, `${upstream} circuit ${state === 'closed' ? 'closed; service restored' : 'half-open; probing'}`);
      }
    });
  }

  get state(): BreakerState {
    return toState(this.policy.state);
  }

  /**
   * Runs `fn` through the breaker. `isOutage(err)` decides whether a thrown error counts as a failure.
   * Throws BreakerOpenError without calling `fn` while the circuit is open.
   */
  async execute<T>(fn: () => Promise<T>, isOutage: (err: unknown) => boolean): Promise<T> {
    // cockatiel queues callers behind a half-open probe; we fail them fast instead
    if (this.policy.state === CircuitState.HalfOpen || this.policy.state === CircuitState.Isolated) {
      throw new BreakerOpenError(this.upstream);
    }
    let outcome: Outcome<T>;
    try {
      outcome = await this.policy.execute(async (): Promise<Outcome<T>> => {
        try {
          return { ok: true, value: await fn() };
        } catch (error) {
          if (isOutage(error)) {
            throw new OutageSignal(error);
          }
          return { ok: false, error, outage: false };
        }
      });
    } catch (e) {
      if (e instanceof OutageSignal) {
        throw e.error;
      }
      if (e instanceof BrokenCircuitError || e instanceof IsolatedCircuitError) {
        throw new BreakerOpenError(this.upstream);
      }
      throw e;
    }
    if (!outcome.ok) {
      throw outcome.error;
    }
    return outcome.value;
  }
}

function toState(s: CircuitState): BreakerState {
  switch (s) {
    case CircuitState.Closed:
      return 'closed';
    case CircuitState.HalfOpen:
      return 'half_open';
    case CircuitState.Open:
    case CircuitState.Isolated:
      return 'open';
  }
}
