import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { LOGGER, type AppLogger } from '../common/logger';
import { AppConfig } from '../config/config';
import { DeliveriesRepository } from '../delivery/deliveries.repository';
import { jittered, type AttemptOutcome, type DeliveryAttempt, type DeliveryChannel } from '../delivery/delivery-channel';
import { DeliveryChannels } from '../delivery/delivery-channels';
import type { EventEnvelope } from '../events/event-types';
import { WebhookClient, type WebhookResponse } from '../integrations/webhooks/webhook.client';
import { standardWebhookHeaders } from '../integrations/webhooks/webhook-signature';
import { WebhooksRepository } from './webhooks.repository';

/** `Retry-After` in seconds or as an HTTP date → ms from `now` (never negative); null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null) {
    return null;
  }
  const v = value.trim();
  if (/^\d+$/.test(v)) {
    return Number(v) * 1000;
  }
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** An HTTP answer (or none) → the outcome the outbox worker records (ALERTING.md §2 "Outcome"). */
export function webhookOutcome(res: WebhookResponse, now = Date.now()): AttemptOutcome {
  const status = res.status;
  if (status === null) {
    return { ok: false, status: null, error: res.error ?? 'no answer', timedOut: res.timedOut };
  }
  if (status >= 200 && status < 300) {
    return { ok: true, status, error: null };
  }
  if (status === 410) {
    return { ok: false, status, error: 'HTTP 410', gone: true };
  }
  if (status >= 300 && status < 400) {
    return { ok: false, status, error: `HTTP ${status} (redirects are not followed)` };
  }
  const outcome: AttemptOutcome = { ok: false, status, error: `HTTP ${status}` };
  if (status === 429 || status === 503) {
    const wait = parseRetryAfter(res.retryAfter, now);
    if (wait !== null) {
      outcome.retryAfterMs = wait;
    }
  }
  return outcome;
}

/**
 * The webhook delivery channel (ALERTING.md §2): signs the envelope with Standard Webhooks v1
 * (the previous secret too while a rotation is under way), POSTs it, and turns the answer into
 * an outcome; 410 and endpoints failing for WEBHOOK_DISABLE_AFTER are disabled. Secrets, bodies
 * and URLs are never logged.
 */
@Injectable()
export class WebhookChannel implements DeliveryChannel, OnModuleInit {
  readonly name = 'webhook' as const;
  private readonly log: AppLogger;

  constructor(
    private readonly config: AppConfig,
    private readonly channels: DeliveryChannels,
    private readonly webhooks: WebhooksRepository,
    private readonly deliveries: DeliveriesRepository,
    private readonly client: WebhookClient,
    @Inject(LOGGER) logger: AppLogger,
  ) {
    this.log = logger.child({ context: 'WebhookChannel' });
  }

  get attemptTimeoutMs(): number {
    return this.config.webhooks.timeoutMs;
  }

  onModuleInit(): void {
    this.channels.register(this);
  }

  async send(delivery: DeliveryAttempt, event: EventEnvelope): Promise<AttemptOutcome> {
    const w = await this.webhooks.findById(delivery.targetId);
    if (!w) {
      return { ok: false, status: null, error: 'webhook deleted', inactive: true };
    }
    if (!w.isActive) {
      return { ok: false, status: null, error: 'webhook inactive', inactive: true };
    }
    const now = Date.now();
    const secrets = [w.secret];
    if (w.previousSecret && w.previousSecretExpiresAt && w.previousSecretExpiresAt.getTime() > now) {
      secrets.push(w.previousSecret);
    }
    const body = JSON.stringify(event);
    const headers = standardWebhookHeaders(`evt_${event.id}`, Math.floor(now / 1000), body, secrets);
    return webhookOutcome(await this.client.post(w.url, body, headers));
  }

  /** The schedule entry of this attempt, ±20 %; a receiver's Retry-After instead, at most 4 × that. */
  nextDelayMs(delivery: DeliveryAttempt, outcome: AttemptOutcome): number | null {
    const schedule = this.config.webhooks.retryScheduleMs;
    const entry = schedule[delivery.attempt - 1];
    if (entry === undefined) {
      return null;
    }
    const next = jittered(entry);
    return outcome.retryAfterMs === undefined ? next : Math.min(outcome.retryAfterMs, 4 * next);
  }

  async afterAttempt(delivery: DeliveryAttempt, outcome: AttemptOutcome): Promise<void> {
    if (outcome.ok || outcome.inactive) {
      return;
    }
    try {
      if (outcome.gone) {
        await this.disable(delivery.targetId, '410 Gone');
        return;
      }
      const since = new Date(Date.now() - this.config.webhooks.disableAfterSec * 1000);
      if (await this.deliveries.failingSince('webhook', delivery.targetId, since)) {
        await this.disable(delivery.targetId, `failing since ${since.toISOString()}`);
      }
    } catch (err) {
      this.log.warn({ err, webhook_id: delivery.targetId }, 'could not update the webhook after a failed delivery');
    }
  }

  private async disable(id: number, reason: string): Promise<void> {
    if (await this.webhooks.disable(id, reason)) {
      this.log.warn({ webhook_id: id, reason }, 'webhook disabled');
    }
  }
}
