import { validateWithRefs, type RefCheck } from '../../common/body-validation';
import { INT32_MAX, type Schema } from '../../common/validation';
import { definedOnly } from '../../common/wire';

// Request bodies of §4.1 → the typed input the services take. Controllers call these; the
// `RefCheck`s come from the services, so an unknown parent is reported with the other fields.

const ORGANIZATION_FIELDS = {
  name: { kind: 'string', max: 255, required: true },
  org_type: { kind: 'string', max: 100, required: true },
  total_capacity: { kind: 'int', min: 0, max: INT32_MAX, default: 0 },
  latitude: { kind: 'decimal', nullable: true },
  longitude: { kind: 'decimal', nullable: true },
} satisfies Schema;

const ZONE_FIELDS = {
  name: { kind: 'string', max: 255, required: true },
  zone_type: { kind: 'string', max: 100, required: true },
  organization_id: { kind: 'pk', required: true },
  capacity: { kind: 'int', min: 0, max: INT32_MAX, default: 0 },
  latitude: { kind: 'decimal', nullable: true },
  longitude: { kind: 'decimal', nullable: true },
} satisfies Schema;

const CAMERA_FIELDS = {
  name: { kind: 'string', max: 255, required: true },
  zone_id: { kind: 'pk', required: true },
  is_active: { kind: 'bool', default: true },
} satisfies Schema;

export interface CreateOrganizationInput {
  name: string;
  orgType: string;
  totalCapacity: number;
  /** numeric(9,6) as a 6-decimal string */
  latitude: string | null;
  longitude: string | null;
}
export type UpdateOrganizationInput = Partial<CreateOrganizationInput>;

export interface CreateZoneInput {
  organizationId: number;
  name: string;
  zoneType: string;
  capacity: number;
  latitude: string | null;
  longitude: string | null;
}
/** `organizationId` moves the zone. */
export type UpdateZoneInput = Partial<CreateZoneInput>;

export interface CreateCameraInput {
  zoneId: number;
  name: string;
  isActive: boolean;
}
/** `zoneId` moves the camera. */
export type UpdateCameraInput = Partial<CreateCameraInput>;

/** A field a full (non-partial) validation guarantees: required, or filled with its default. */
function given<T>(v: T | undefined): T {
  if (v === undefined) {
    throw new Error('validated body lacks a required field');
  }
  return v;
}

export async function parseCreateOrganization(body: unknown): Promise<CreateOrganizationInput> {
  const v = await validateWithRefs(body, ORGANIZATION_FIELDS, { partial: false }, {});
  return { name: given(v.name), orgType: given(v.org_type), totalCapacity: given(v.total_capacity), latitude: v.latitude ?? null, longitude: v.longitude ?? null };
}

/** PUT and PATCH alike: only the fields sent. */
export async function parseUpdateOrganization(body: unknown): Promise<UpdateOrganizationInput> {
  const v = await validateWithRefs(body, ORGANIZATION_FIELDS, { partial: true }, {});
  return definedOnly({ name: v.name, orgType: v.org_type, totalCapacity: v.total_capacity, latitude: v.latitude, longitude: v.longitude });
}

export async function parseCreateZone(body: unknown, organizationExists: RefCheck): Promise<CreateZoneInput> {
  const v = await validateWithRefs(body, ZONE_FIELDS, { partial: false }, { organization_id: organizationExists });
  return {
    organizationId: given(v.organization_id),
    name: given(v.name),
    zoneType: given(v.zone_type),
    capacity: given(v.capacity),
    latitude: v.latitude ?? null,
    longitude: v.longitude ?? null,
  };
}

export async function parseUpdateZone(body: unknown, organizationExists: RefCheck): Promise<UpdateZoneInput> {
  const v = await validateWithRefs(body, ZONE_FIELDS, { partial: true }, { organization_id: organizationExists });
  return definedOnly({
    organizationId: v.organization_id,
    name: v.name,
    zoneType: v.zone_type,
    capacity: v.capacity,
    latitude: v.latitude,
    longitude: v.longitude,
  });
}

export async function parseCreateCamera(body: unknown, zoneExists: RefCheck): Promise<CreateCameraInput> {
  const v = await validateWithRefs(body, CAMERA_FIELDS, { partial: false }, { zone_id: zoneExists });
  return { zoneId: given(v.zone_id), name: given(v.name), isActive: given(v.is_active) };
}

export async function parseUpdateCamera(body: unknown, zoneExists: RefCheck): Promise<UpdateCameraInput> {
  const v = await validateWithRefs(body, CAMERA_FIELDS, { partial: true }, { zone_id: zoneExists });
  return definedOnly({ zoneId: v.zone_id, name: v.name, isActive: v.is_active });
}
