import type { EventEnvelope } from '../events/event-types';

export type DeliveryChannelName = 'webhook' | 'whatsapp';

/** What one attempt to deliver an event to one subscription gave. Never holds a response body. */
export interface AttemptOutcome {
  /** 2xx: delivered */
  ok: boolean;
  /** HTTP status of the answer, null when none arrived */
  status: number | null;
  /** short reason for a failure (`timeout`, `connection refused`, `destination not allowed`, `HTTP 500`); null on success */
  error: string | null;
  /** no answer within the time limit: the receiver may have acted on it (gateways have no idempotency key) */
  timedOut?: boolean;
  /** 410 Gone: the subscription is disabled and nothing is retried */
  gone?: boolean;
  /** 429/503 with Retry-After: the receiver's own wait, in ms */
  retryAfterMs?: number;
  /** the subscription no longer exists or is inactive: recorded as failed, never retried */
  inactive?: boolean;
}

/** A claimed delivery as a channel sees it. */
export interface DeliveryAttempt {
  id: number;
  eventId: number;
  targetId: number;
  /** attempts made so far, this one included */
  attempt: number;
  /** earlier attempts that timed out */
  timeoutsBefore: number;
}

/**
 * A way of telling someone (ALERTING.md §2, §3). The outbox worker claims due deliveries,
 * calls `send`, records the outcome, and asks `nextDelayMs` when to try again.
 */
export interface DeliveryChannel {
  readonly name: DeliveryChannelName;
  /** the longest one `send` may take (its time limit): the claim's lease covers it with a margin */
  readonly attemptTimeoutMs: number;
  send(delivery: DeliveryAttempt, event: EventEnvelope): Promise<AttemptOutcome>;
  /** ms until the next attempt after a failed one, or null when the delivery is exhausted */
  nextDelayMs(delivery: DeliveryAttempt, outcome: AttemptOutcome): number | null;
  /** side effects of an outcome on the subscription itself (410 → disabled, failing for days → disabled) */
  afterAttempt?(delivery: DeliveryAttempt, outcome: AttemptOutcome): Promise<void>;
}

/** Delay of a retry schedule entry with ±20 % jitter (ALERTING.md §2). */
export function jittered(ms: number, random: () => number = Math.random): number {
  return Math.round(ms * (0.8 + 0.4 * random()));
}
