import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { SUBSCRIBABLE_EVENT_TYPES } from '../../events/event-types';
import { DEFAULT_RECIPIENT_EVENT_TYPES } from './recipient.input';

/** A WhatsApp alert recipient on the wire (ALERTING.md §3). */
export class RecipientDto {
  @ApiProperty({ example: 1 }) id!: number;
  @ApiProperty({ example: '+2348012345678', description: 'E.164' }) phone!: string;
  @ApiProperty({ example: 'Night shift lead', maxLength: 150 }) name!: string;
  @ApiProperty({ type: Number, nullable: true, example: 3, description: 'only events of this organization; null: every organization' })
  organization_id!: number | null;
  @ApiProperty({ type: [String], enum: SUBSCRIBABLE_EVENT_TYPES, example: DEFAULT_RECIPIENT_EVENT_TYPES }) event_types!: string[];
  @ApiProperty({ example: true }) is_active!: boolean;
  @ApiProperty({ example: '2026-12-01T14:03:07.412Z' }) created_at!: string;
  @ApiProperty({ example: '2026-12-01T14:03:07.412Z' }) updated_at!: string;
}

/** Request body (documentation only; validation is parseCreateRecipient with DRF wording). */
export class RecipientInputDto {
  @ApiProperty({ example: '+2348012345678', description: 'E.164: + then 8 to 15 digits, the first not 0' }) phone!: string;
  @ApiPropertyOptional({ maxLength: 150, default: '' }) name?: string;
  @ApiPropertyOptional({ type: Number, nullable: true, description: 'default null: every organization' }) organization_id?: number | null;
  @ApiPropertyOptional({ type: [String], enum: SUBSCRIBABLE_EVENT_TYPES, default: DEFAULT_RECIPIENT_EVENT_TYPES, description: 'non-empty' })
  event_types?: string[];
  @ApiPropertyOptional({ default: true }) is_active?: boolean;
}
