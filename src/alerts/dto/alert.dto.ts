import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ALERT_STATUSES } from '../alert.entity';

export class AlertDto {
  @ApiProperty({ example: 1 }) id!: number;
  @ApiProperty({ example: 'Overcrowding in Lobby' }) heading!: string;
  @ApiProperty({ type: String, nullable: true, example: 'Detected 9/10 people. (Cam: 1)' }) sub_heading!: string | null;
  @ApiProperty({ enum: ALERT_STATUSES, example: 'OPEN' }) status!: 'OPEN' | 'CLOSED';
  @ApiProperty({ example: '2026-11-22T19:07:00.123Z' }) created_at!: string;
  @ApiProperty({ example: '2026-11-22T19:07:00.123Z' }) updated_at!: string;
  @ApiProperty({ type: Number, nullable: true, example: 1, description: "stored zone; legacy rows show their camera's zone, or null" })
  zone_id!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 1 }) camera_id!: number | null;
  @ApiProperty({ type: String, nullable: true, example: '2026-11-22T19:08:00.123Z', description: 'first acknowledgement' })
  acknowledged_at!: string | null;
  @ApiProperty({ type: Number, nullable: true, example: 1, description: 'user id' }) acknowledged_by!: number | null;
  @ApiProperty({ type: String, nullable: true, example: null }) resolved_at!: string | null;
  @ApiProperty({ type: Number, nullable: true, example: null, description: 'user id; null when resolved automatically' })
  resolved_by!: number | null;
  @ApiProperty({ enum: ['manual', 'auto'], nullable: true, example: null }) resolution!: 'manual' | 'auto' | null;
  @ApiProperty({ type: Number, nullable: true, example: 11, description: 'highest head count of the DANGER detections of this alert' })
  peak_people!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 9, description: 'head count of its latest DANGER detection' }) last_people!: number | null;
  @ApiProperty({ type: String, nullable: true, example: '2026-11-22T19:07:30.123Z' }) last_detected_at!: string | null;
  @ApiProperty({ example: true, description: 'GET /alerts/{id}/snapshot/ has an image' }) has_snapshot!: boolean;
}

export class AlertCreateDto {
  @ApiProperty({ maxLength: 255 }) heading!: string;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'null or blank allowed' }) sub_heading?: string | null;
  @ApiPropertyOptional({ enum: ALERT_STATUSES, default: 'OPEN' }) status?: 'OPEN' | 'CLOSED';
  @ApiProperty({ description: 'existing zone' }) zone_id!: number;
  @ApiPropertyOptional({ type: Number, nullable: true, description: 'existing camera of that zone' }) camera_id?: number | null;
}

export class AlertUpdateDto {
  @ApiPropertyOptional({ enum: ALERT_STATUSES, description: 'any user' }) status?: 'OPEN' | 'CLOSED';
  @ApiPropertyOptional({ maxLength: 255, description: 'ADMIN only' }) heading?: string;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'ADMIN only' }) sub_heading?: string | null;
}
