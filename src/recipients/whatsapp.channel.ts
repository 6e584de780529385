import { Injectable, type OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config/config';
import type { AttemptOutcome, DeliveryAttempt, DeliveryChannel } from '../delivery/delivery-channel';
import { DeliveryChannels } from '../delivery/delivery-channels';
import type { EventEnvelope } from '../events/event-types';
import { WhatsAppClient } from '../integrations/whatsapp/whatsapp.client';
import { RecipientsRepository } from './recipients.repository';
import { whatsAppText } from './whatsapp-texts';

/**
 * The WhatsApp delivery channel (ALERTING.md §3): one text per (event, recipient) through the
 * configured gateway. Registered only when a provider is configured. At most 3 attempts within
 * 15 minutes (WHATSAPP_RETRY_SCHEDULE); gateways have no idempotency key, so once an attempt has
 * timed out (the message may have gone out) at most one more attempt follows.
 */
@Injectable()
export class WhatsAppChannel implements DeliveryChannel, OnModuleInit {
  readonly name = 'whatsapp' as const;

  constructor(
    private readonly config: AppConfig,
    private readonly channels: DeliveryChannels,
    private readonly recipients: RecipientsRepository,
    private readonly gateway: WhatsAppClient,
  ) {}

  onModuleInit(): void {
    if (this.config.whatsapp.provider !== null && this.gateway.configured) {
      this.channels.register(this);
    }
  }

  get attemptTimeoutMs(): number {
    return this.config.whatsapp.timeoutMs;
  }

  async send(delivery: DeliveryAttempt, event: EventEnvelope): Promise<AttemptOutcome> {
    const recipient = await this.recipients.findById(delivery.targetId);
    if (!recipient || !recipient.isActive) {
      return { ok: false, status: null, error: 'recipient inactive', inactive: true };
    }
    const text = whatsAppText(event);
    if (text === null) {
      return { ok: false, status: null, error: 'no text for this event type', inactive: true };
    }
    const r = await this.gateway.send(recipient.phone, text);
    return { ok: r.ok, status: r.status, error: r.error, timedOut: r.timedOut };
  }

  nextDelayMs(delivery: DeliveryAttempt): number | null {
    if (delivery.timeoutsBefore >= 1) {
      return null; // the retry after a timeout was this one
    }
    return this.config.whatsapp.retryScheduleMs[delivery.attempt - 1] ?? null;
  }
}
