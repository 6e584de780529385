import { ApiProperty } from '@nestjs/swagger';
import { SUBSCRIBABLE_EVENT_TYPES } from '../event-types';

/** The envelope of ALERTING.md §1, as sent on webhooks, on the stream and by `GET /events/`. */
export class EventDto {
  @ApiProperty({ description: 'strictly increasing; resume with ?after= or Last-Event-ID' }) id!: number;
  @ApiProperty({ enum: [...SUBSCRIBABLE_EVENT_TYPES, 'webhook.test'] }) type!: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ type: Number, nullable: true }) organization_id!: number | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'alert events: {alert, zone, organization, camera} plus detected_people, user_id, reminder or resolution; camera events: {camera, zone, organization, last_seen_at}',
  })
  data!: Record<string, unknown>;
}
