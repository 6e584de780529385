import type { RecipientDto } from './dto/recipient.dto';
import type { Recipient } from './recipient';

/** A recipient on the wire (ALERTING.md §3). */
export function presentRecipient(r: Recipient): RecipientDto {
  return {
    id: r.id,
    phone: r.phone,
    name: r.name,
    organization_id: r.organizationId,
    event_types: r.eventTypes,
    is_active: r.isActive,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}
