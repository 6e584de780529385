import { decimalString } from '../common/validation';
import { isoTimestamp } from '../common/wire';
import { isOnline } from '../liveness/online';
import type { Camera } from './camera.entity';
import type { IssuedDeviceKey } from './cameras.service';
import type {
  CameraDto,
  CameraSummaryDto,
  CameraWithKeyDto,
  DeviceKeyDto,
  OrganizationDto,
  OrganizationRefDto,
  ZoneDto,
  ZoneRefDto,
  ZoneSummaryDto,
} from './dto/site.dto';
import type { Organization } from './organization.entity';
import type { CameraDetail, OrganizationTree, ZoneDetail } from './site-graph';
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

export function presentOrganization({ organization: o, zones }: OrganizationTree): OrganizationDto {
  return {
    id: o.id,
    name: o.name,
    org_type: o.orgType,
    total_capacity: o.totalCapacity,
    latitude: decimalString(o.latitude),
    longitude: decimalString(o.longitude),
    zones: zones.map(({ zone, cameras }) => zoneSummary(zone, cameras)),
  };
}

export function presentZone({ zone: z, organization, cameras }: ZoneDetail): ZoneDto {
  return {
    id: z.id,
    name: z.name,
    zone_type: z.zoneType,
    capacity: z.capacity,
    latitude: decimalString(z.latitude),
    longitude: decimalString(z.longitude),
    organization: organizationRef(organization),
    cameras: cameras.map(cameraSummary),
  };
}

export function zoneRef(z: Zone, org: Organization): ZoneRefDto {
  return { id: z.id, name: z.name, zone_type: z.zoneType, organization: organizationRef(org) };
}

/** `offlineAfterMs`: CAMERA_OFFLINE_AFTER, for `online` (ALERTING.md §6). */
export function presentCamera({ camera: c, zone, organization }: CameraDetail, offlineAfterMs: number): CameraDto {
  return {
    id: c.id,
    name: c.name,
    is_active: c.isActive,
    zone: zoneRef(zone, organization),
    created_at: isoTimestamp(c.createdAt),
    has_device_key: c.apiKeyHash !== null,
    last_seen_at: c.lastSeenAt === null ? null : isoTimestamp(c.lastSeenAt),
    online: isOnline(c.lastSeenAt, offlineAfterMs),
  };
}

/** POST /cameras/: the camera plus its device key, shown this once. */
export function presentCameraWithKey(detail: CameraDetail, issued: IssuedDeviceKey, offlineAfterMs: number): CameraWithKeyDto {
  return { ...presentCamera(detail, offlineAfterMs), device_key: issued.key };
}

export function presentDeviceKey(issued: IssuedDeviceKey): DeviceKeyDto {
  return { id: issued.cameraId, device_key: issued.key };
}
