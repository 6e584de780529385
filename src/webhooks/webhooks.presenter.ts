import { WebhookDto, WebhookWithSecretDto } from './dto/webhook.dto';
import type { Webhook } from './webhooks.repository';

/** A webhook on the wire (ALERTING.md §2): never the secret. */
export function presentWebhook(w: Webhook): WebhookDto {
  return {
    id: w.id,
    url: w.url,
    event_types: w.eventTypes,
    organization_id: w.organizationId,
    description: w.description,
    is_active: w.isActive,
    disabled_reason: w.disabledReason,
    created_at: w.createdAt.toISOString(),
    updated_at: w.updatedAt.toISOString(),
  };
}

/** The answer to a create: the webhook and, this once, its secret. */
export function presentCreatedWebhook(w: Webhook): WebhookWithSecretDto {
  return { ...presentWebhook(w), secret: w.secret };
}
