import { Injectable } from '@nestjs/common';
import type { Page } from '../common/validation';
import type { ListResult } from '../common/wire';
import { UnitOfWork } from '../database/unit-of-work';
import { DeliveriesRepository, type Delivery } from '../delivery/deliveries.repository';
import { DeliveryWorker } from '../delivery/delivery.worker';
import { TEST_EVENT_TYPE } from '../events/event-types';
import { EventsService } from '../events/events.service';
import { newWebhookSecret } from '../integrations/webhooks/webhook-signature';
import { OrganizationsRepository } from '../sites/organizations.repository';
import type { CreateWebhookInput, UpdateWebhookInput } from './dto/webhook.input';
import { DeliveryNotFoundError, DeliveryNotRetryableError, WebhookInactiveError, WebhookNotFoundError } from './webhooks.errors';
import { WebhooksRepository, type Webhook } from './webhooks.repository';

/** How long the secret before a rotation keeps signing alongside the new one (§2). */
export const PREVIOUS_SECRET_TTL_MS = 24 * 3600 * 1000;

/** Webhook subscriptions (ALERTING.md §2): CRUD, secret rotation, test events, the delivery log. */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly webhooks: WebhooksRepository,
    private readonly orgs: OrganizationsRepository,
    private readonly deliveries: DeliveriesRepository,
    private readonly events: EventsService,
    private readonly uow: UnitOfWork,
    private readonly worker: DeliveryWorker,
  ) {}

  list(page: Page): Promise<ListResult<Webhook>> {
    return this.webhooks.findPage(page);
  }

  async get(id: number): Promise<Webhook> {
    const w = await this.webhooks.findById(id);
    if (!w) {
      throw new WebhookNotFoundError();
    }
    return w;
  }

  /** 404 unless it exists: PUT and PATCH answer that before validating the body. */
  async assertExists(id: number): Promise<void> {
    if (!(await this.webhooks.exists(id))) {
      throw new WebhookNotFoundError();
    }
  }

  organizationExists(id: number): Promise<boolean> {
    return this.orgs.exists(id);
  }

  /** The new webhook, with the secret the caller shows once. */
  create(input: CreateWebhookInput): Promise<Webhook> {
    const now = new Date();
    return this.webhooks.insert({
      ...input,
      disabledReason: null,
      secret: newWebhookSecret(),
      previousSecret: null,
      previousSecretExpiresAt: null,
      createdAt: now,
      updatedAt: now,
    });
  }

  /** PUT and PATCH alike: a partial update. Re-activating clears the reason of an automatic disable. */
  async update(id: number, input: UpdateWebhookInput): Promise<Webhook> {
    const w = await this.webhooks.update(id, { ...input, ...(input.isActive === true ? { disabledReason: null } : {}), updatedAt: new Date() });
    if (!w) {
      throw new WebhookNotFoundError();
    }
    return w;
  }

  /** Its deliveries, pending ones included, are dropped with it. */
  async remove(id: number): Promise<void> {
    if (!(await this.webhooks.delete(id))) {
      throw new WebhookNotFoundError();
    }
  }

  /** A new secret; the current one keeps signing alongside it for 24 h (a second rotation ends that early). */
  async rotateSecret(id: number): Promise<{ id: number; secret: string }> {
    const secret = newWebhookSecret();
    const now = new Date();
    if (!(await this.webhooks.rotateSecret(id, secret, new Date(now.getTime() + PREVIOUS_SECRET_TTL_MS), now))) {
      throw new WebhookNotFoundError();
    }
    return { id, secret };
  }

  /** A `webhook.test` event delivered to this endpoint only (never listed or streamed); its id. */
  async sendTest(id: number): Promise<number> {
    const w = await this.get(id);
    if (!w.isActive) {
      throw new WebhookInactiveError();
    }
    const eventId = await this.uow.run(async (tx) => {
      const event = await this.events.emit(TEST_EVENT_TYPE, w.organizationId, { webhook_id: w.id }, tx);
      await this.deliveries.insertOne(event.id, 'webhook', w.id, tx);
      return event.id;
    });
    this.worker.pump();
    return eventId;
  }

  async deliveriesOf(id: number, page: Page): Promise<ListResult<Delivery>> {
    await this.assertExists(id);
    return this.deliveries.findPage('webhook', id, page);
  }

  /** A failed or exhausted delivery becomes due now (returned as rescheduled); pending or succeeded ones answer 409. */
  async retry(id: number, deliveryId: number): Promise<Delivery> {
    const w = await this.get(id);
    const d = await this.deliveries.findOne('webhook', id, deliveryId);
    if (!d) {
      throw new DeliveryNotFoundError();
    }
    if (d.status !== 'failed' && d.status !== 'exhausted') {
      throw new DeliveryNotRetryableError(d.status);
    }
    if (!w.isActive) {
      throw new WebhookInactiveError();
    }
    if (!(await this.deliveries.retryNow('webhook', id, deliveryId))) {
      // its status changed since the read (an attempt finished, or it was dropped)
      const now = await this.deliveries.findOne('webhook', id, deliveryId);
      if (!now) {
        throw new DeliveryNotFoundError();
      }
      throw new DeliveryNotRetryableError(now.status);
    }
    const rescheduled = await this.deliveries.findOne('webhook', id, deliveryId);
    this.worker.pump();
    if (!rescheduled) {
      throw new DeliveryNotFoundError(); // the webhook was deleted meanwhile
    }
    return rescheduled;
  }
}
