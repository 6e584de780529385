import { decimalString } from '../common/validation';
import { isoTimestamp } from '../common/wire';
import type { Camera } from './camera.entity';
import type { CameraDto, CameraSummaryDto, OrganizationDto, OrganizationRefDto, ZoneDto, ZoneRefDto, ZoneSummaryDto } from './dto/site.dto';
import type { Organization } from './organization.entity';
import type { Zone } from './zone.entity';

// Entities → the wire shapes of spec §4.1 (field order as in the spec).

export function cameraSummary(c: Camera): CameraSummaryDto {
  return { id: c.id, name: c.name, is_active: c.isActive };
}

export function organizationRef(o: Organization): OrganizationRefDto {
  return { id: o.id, name: o.name, org_type: o.orgType };
}

export function zoneSummary(z: Zone, cameras: Camera[]): ZoneSummaryDto {
  return { id: z.id, name: z.name, zone_type: z.zoneType, capacity: z.capacity, cameras: cameras.map(cameraSummary) };
}

export function presentOrganization(o: Organization, zones: Zone[], camerasByZone: Map<number, Camera[]>): OrganizationDto {
  return {
    id: o.id,
    name: o.name,
    org_type: o.orgType,
    total_capacity: o.totalCapacity,
    latitude: decimalString(o.latitude),
    longitude: decimalString(o.longitude),
    zones: zones.map((z) => zoneSummary(z, camerasByZone.get(z.id) ?? [])),
  };
}

export function presentZone(z: Zone, org: Organization, cameras: Camera[]): ZoneDto {
  return {
    id: z.id,
    name: z.name,
    zone_type: z.zoneType,
    capacity: z.capacity,
    latitude: decimalString(z.latitude),
    longitude: decimalString(z.longitude),
    organization: organizationRef(org),
    cameras: cameras.map(cameraSummary),
  };
}

export function zoneRef(z: Zone, org: Organization): ZoneRefDto {
  return { id: z.id, name: z.name, zone_type: z.zoneType, organization: organizationRef(org) };
}

export function presentCamera(c: Camera, zone: Zone, org: Organization): CameraDto {
  return {
    id: c.id,
    name: c.name,
    is_active: c.isActive,
    zone: zoneRef(zone, org),
    created_at: isoTimestamp(c.createdAt),
    has_device_key: c.apiKeyHash !== null,
  };
}
