import { ApiProperty } from '@nestjs/swagger';
import type { Delivery, DeliveryStatus } from './deliveries.repository';

/** A delivery on the wire (ALERTING.md §2 `GET /webhooks/{id}/deliveries/`, §3 recipients alike). */
export class DeliveryDto {
  @ApiProperty() id!: number;
  @ApiProperty() event_id!: number;
  @ApiProperty() event_type!: string;
  @ApiProperty({ enum: ['pending', 'succeeded', 'failed', 'exhausted'] }) status!: DeliveryStatus;
  @ApiProperty() attempts!: number;
  @ApiProperty({ type: Number, nullable: true }) last_response_status!: number | null;
  @ApiProperty({ type: String, nullable: true }) last_error!: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) last_attempt_at!: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) next_attempt_at!: string | null;
  @ApiProperty({ type: Number, nullable: true }) duration_ms!: number | null;
}

export function presentDelivery(d: Delivery): DeliveryDto {
  return {
    id: d.id,
    event_id: d.eventId,
    event_type: d.eventType,
    status: d.status,
    attempts: d.attempts,
    last_response_status: d.lastResponseStatus,
    last_error: d.lastError,
    last_attempt_at: d.lastAttemptAt?.toISOString() ?? null,
    next_attempt_at: d.nextAttemptAt?.toISOString() ?? null,
    duration_ms: d.durationMs,
  };
}
