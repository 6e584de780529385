import { BrokenCircuitError, circuitBreaker, CircuitBreakerPolicy, CircuitState, ConsecutiveBreaker, handleWhen, IsolatedCircuitError } from 'cockatiel';
import type { AppLogger } from '../../common/logger';

/** Shared by the crowd and Gemini clients: one breaker per downstream (cockatiel). */

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerSettings {
  /** consecutive outage failures that open the circuit */
  failureThreshold: number;
  /** how long the circuit stays open before one probe call is let through */
  halfOpenAfterMs: number;
}

/** Thrown instead of calling the downstream while the circuit is open (or a probe is in flight). */
export class BreakerOpenError extends Error {
  constructor(readonly upstream: string) {
    super(`${upstream} circuit is open`);
    this.name = 'BreakerOpenError';
  }
}

/**
 * Reads `<PREFIX>_BREAKER_FAILURES` and `<PREFIX>_BREAKER_HALF_OPEN_MS`; a bad value keeps the default
 * (and is reported through `problems`) rather than stopping a running detector pipeline.
 */
export function breakerSettingsFromEnv(env: Record<string, string | undefined>, prefix: string, defaults: BreakerSettings, problems: string[] = []): BreakerSettings {
  const read = (name: string, def: number, min: number, max: number): number => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') {
      return def;
    }
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be an integer ${min}-${max} (got "${raw}")`);
      return def;
    }
    return Number(raw);
  };
  return {
    failureThreshold: read(`${prefix}_BREAKER_FAILURES`, defaults.failureThreshold, 1, 1000),
    halfOpenAfterMs: read(`${prefix}_BREAKER_HALF_OPEN_MS`, defaults.halfOpenAfterMs, 1, 3600000),
  };
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
