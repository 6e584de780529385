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
