import { ApiProperty } from '@nestjs/swagger';
import { BUCKETS } from './history-query';

// Wire shapes of ALERTING.md §6; the service returns these, the OpenAPI document is built from them.

export const BOARD_STATUSES = ['NORMAL', 'DANGER', 'STALE', 'NO_DATA'] as const;
export type BoardStatus = (typeof BOARD_STATUSES)[number];

export class ZoneOccupancyDto {
  @ApiProperty({ example: 1 }) zone_id!: number;
  @ApiProperty({ example: 'Lobby', description: 'the zone name' }) zone!: string;
  @ApiProperty({ example: 1 }) organization_id!: number;
  @ApiProperty({ example: 10, description: "the latest reading's capacity; the zone's current capacity when it has no reading" })
  capacity!: number;
  @ApiProperty({ type: Number, nullable: true, example: 3, description: 'null when NO_DATA' }) people!: number | null;
  @ApiProperty({ type: String, nullable: true, example: '30.0%', description: 'as in API.md §5; null when NO_DATA' })
  occupancy_percentage!: string | null;
  @ApiProperty({ enum: BOARD_STATUSES, description: 'the latest reading\'s status; STALE when older than OCCUPANCY_STALE_AFTER; NO_DATA without reading' })
  status!: BoardStatus;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) measured_at!: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'camera of the latest reading' }) camera_id!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'the newest OPEN alert of the zone, whatever the reading' })
  open_alert_id!: number | null;
}

export class OccupancyPointDto {
  @ApiProperty({ format: 'date-time', description: 'bucket start, aligned to UTC multiples of the bucket size' }) start!: string;
  @ApiProperty({ example: 12 }) samples!: number;
  @ApiProperty({ example: 4.25, description: 'mean people, rounded to 2 decimals (ties away from zero)' }) avg_people!: number;
  @ApiProperty({ example: 9 }) max_people!: number;
  @ApiProperty({ example: 1 }) min_people!: number;
}

export class OccupancyHistoryDto {
  @ApiProperty({ example: 1 }) zone_id!: number;
  @ApiProperty({ example: 10, description: "the zone's current capacity" }) capacity!: number;
  @ApiProperty({ enum: BUCKETS, example: '5m' }) bucket!: string;
  @ApiProperty({ type: [OccupancyPointDto], description: 'ascending; empty buckets omitted; at most 2000' }) points!: OccupancyPointDto[];
}
