import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

// Wire shapes of spec §4.1. The presenters return these; the OpenAPI document is built from them.

export class CameraSummaryDto {
  @ApiProperty({ example: 1 }) id!: number;
  @ApiProperty({ example: 'Entrance cam' }) name!: string;
  @ApiProperty({ example: true }) is_active!: boolean;
}

export class ZoneSummaryDto {
  @ApiProperty({ example: 1 }) id!: number;
  @ApiProperty({ example: 'Lobby' }) name!: string;
  @ApiProperty({ example: 'HALL' }) zone_type!: string;
  @ApiProperty({ example: 10 }) capacity!: number;
  @ApiProperty({ type: [CameraSummaryDto], description: 'complete, id ascending' }) cameras!: CameraSummaryDto[];
}

export class OrganizationRefDto {
  @ApiProperty({ example: 1 }) id!: number;
  @ApiProperty({ example: 'Central Library' }) name!: string;
  @ApiProperty({ example: 'LIBRARY' }) org_type!: string;
}

export class OrganizationDto {
  @ApiProperty({ example: 1 }) id!: number;
  @ApiProperty({ example: 'Central Library' }) name!: string;
  @ApiProperty({ example: 'LIBRARY' }) org_type!: string;
  @ApiProperty({ example: 500, minimum: 0 }) total_capacity!: number;
  @ApiProperty({ type: String, nullable: true, example: '40.712800', description: 'numeric(9,6) as a 6-decimal string' })
  latitude!: string | null;
  @ApiProperty({ type: String, nullable: true, example: '-74.006000' }) longitude!: string | null;
  @ApiProperty({ type: [ZoneSummaryDto], description: 'complete, id ascending' }) zones!: ZoneSummaryDto[];
}

export class ZoneDto {
  @ApiProperty({ example: 1 }) id!: number;
  @ApiProperty({ example: 'Lobby' }) name!: string;
  @ApiProperty({ example: 'HALL' }) zone_type!: string;
  @ApiProperty({ example: 10, minimum: 0 }) capacity!: number;
  @ApiProperty({ type: String, nullable: true, example: '40.712800' }) latitude!: string | null;
  @ApiProperty({ type: String, nullable: true, example: '-74.006000' }) longitude!: string | null;
  @ApiProperty({ type: OrganizationRefDto }) organization!: OrganizationRefDto;
  @ApiProperty({ type: [CameraSummaryDto], description: 'complete, id ascending' }) cameras!: CameraSummaryDto[];
}

export class ZoneRefDto {
  @ApiProperty({ example: 1 }) id!: number;
  @ApiProperty({ example: 'Lobby' }) name!: string;
  @ApiProperty({ example: 'HALL' }) zone_type!: string;
  @ApiProperty({ type: OrganizationRefDto }) organization!: OrganizationRefDto;
}

export class CameraDto {
  @ApiProperty({ example: 1 }) id!: number;
  @ApiProperty({ example: 'Entrance cam' }) name!: string;
  @ApiProperty({ example: true }) is_active!: boolean;
  @ApiProperty({ type: ZoneRefDto }) zone!: ZoneRefDto;
  @ApiProperty({ example: '2026-11-22T19:07:00.123Z' }) created_at!: string;
  @ApiProperty({ example: true, description: 'whether a device key is provisioned' }) has_device_key!: boolean;
  @ApiProperty({ type: String, nullable: true, example: '2026-11-22T19:07:00.123Z', description: 'its last authenticated upload; null when never seen' })
  last_seen_at!: string | null;
  @ApiProperty({ example: true, description: 'seen within CAMERA_OFFLINE_AFTER; false when never seen' }) online!: boolean;
}

export class CameraWithKeyDto extends CameraDto {
  @ApiProperty({ example: 'ecd_…', description: 'shown once; only its SHA-256 is stored' }) device_key!: string;
}

export class DeviceKeyDto {
  @ApiProperty({ example: 1 }) id!: number;
  @ApiProperty({ example: 'ecd_…', description: 'shown once; the previous key stops working at once' }) device_key!: string;
}

// Request bodies (documentation only; validation is validateBody with DRF wording).

export class OrganizationInputDto {
  @ApiProperty({ maxLength: 255 }) name!: string;
  @ApiProperty({ maxLength: 100 }) org_type!: string;
  @ApiPropertyOptional({ minimum: 0, maximum: 2147483647, default: 0 }) total_capacity?: number;
  @ApiPropertyOptional({ type: String, nullable: true, example: '40.712800', description: 'number or numeric string, numeric(9,6)' })
  latitude?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, example: '-74.006000' }) longitude?: string | null;
}

export class ZoneInputDto {
  @ApiProperty({ maxLength: 255 }) name!: string;
  @ApiProperty({ maxLength: 100 }) zone_type!: string;
  @ApiProperty({ description: 'existing organization; moves the zone on update' }) organization_id!: number;
  @ApiPropertyOptional({ minimum: 0, maximum: 2147483647, default: 0 }) capacity?: number;
  @ApiPropertyOptional({ type: String, nullable: true, example: '40.712800' }) latitude?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, example: '-74.006000' }) longitude?: string | null;
}

export class CameraInputDto {
  @ApiProperty({ maxLength: 255 }) name!: string;
  @ApiProperty({ description: 'existing zone; moves the camera on update' }) zone_id!: number;
  @ApiPropertyOptional({ default: true }) is_active?: boolean;
}
