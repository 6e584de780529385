import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { SUBSCRIBABLE_EVENT_TYPES } from '../../events/event-types';

// Wire shapes of ALERTING.md §2. The presenter returns these; the OpenAPI document is built from them.

const EVENT_TYPES_DOC = `a non-empty list of ${SUBSCRIBABLE_EVENT_TYPES.join(', ')}, or ["*"] for all`;

export class WebhookDto {
  @ApiProperty({ example: 1 }) id!: number;
  @ApiProperty({ example: 'https://ops.example.com/hooks/ecoflow' }) url!: string;
  @ApiProperty({ type: [String], example: ['alert.opened', 'alert.resolved'], description: EVENT_TYPES_DOC }) event_types!: string[];
  @ApiProperty({ type: Number, nullable: true, example: 3, description: 'only events of this organization; null = all' }) organization_id!: number | null;
  @ApiProperty({ example: 'Pager bridge' }) description!: string;
  @ApiProperty({ example: true }) is_active!: boolean;
  @ApiProperty({ type: String, nullable: true, example: null, description: '"410 Gone" or "failing since <time>" when disabled automatically' })
  disabled_reason!: string | null;
  @ApiProperty({ example: '2026-12-01T14:03:07.412Z' }) created_at!: string;
  @ApiProperty({ example: '2026-12-01T14:03:07.412Z' }) updated_at!: string;
}

export class WebhookWithSecretDto extends WebhookDto {
  @ApiProperty({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', description: 'signing secret; shown only in this answer' }) secret!: string;
}

export class WebhookInputDto {
  @ApiProperty({ example: 'https://ops.example.com/hooks/ecoflow', maxLength: 2048, description: 'http or https (https only in production unless WEBHOOK_ALLOW_HTTP), no credentials' })
  url!: string;
  @ApiPropertyOptional({ type: [String], default: ['*'], description: EVENT_TYPES_DOC }) event_types?: string[];
  @ApiPropertyOptional({ type: Number, nullable: true, default: null, description: 'only events of this organization; null = all' }) organization_id?: number | null;
  @ApiPropertyOptional({ default: '', maxLength: 2000 }) description?: string;
  @ApiPropertyOptional({ default: true, description: 'true also clears disabled_reason' }) is_active?: boolean;
}

export class WebhookSecretDto {
  @ApiProperty({ example: 1 }) id!: number;
  @ApiProperty({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', description: 'the new secret; the previous one keeps signing alongside it for 24 h' }) secret!: string;
}

export class WebhookTestDto {
  @ApiProperty({ example: 4711, description: 'the webhook.test event, delivered to this endpoint only' }) event_id!: number;
}
