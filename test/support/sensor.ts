import { Camera } from '../../src/sites/camera.entity';
import { generateDeviceKey } from '../../src/sites/device-key';
import { Organization } from '../../src/sites/organization.entity';
import { Zone } from '../../src/sites/zone.entity';
import { detectForm } from './images';
import type { TestApp, TestResponse } from './test-app';

export interface Site {
  zone: Zone;
  camera: Camera;
  /** the camera's device key, as a provisioned sensor would hold it */
  key: string;
}

let counter = 0;

/** An organization, a zone and one keyed camera, written straight to the database. */
export async function createSite(t: TestApp, opts: { capacity?: number; zoneName?: string; cameraActive?: boolean } = {}): Promise<Site> {
  counter += 1;
  const org = await t.ds.getRepository(Organization).save({
    name: `Org ${counter}`,
    orgType: 'office',
    totalCapacity: 0,
    latitude: null,
    longitude: null,
    createdAt: new Date(),
    updatedAt: new Date(),
  });
  const zone = await t.ds.getRepository(Zone).save({
    organizationId: org.id,
    name: opts.zoneName ?? `Zone ${counter}`,
    zoneType: 'hall',
    capacity: opts.capacity ?? 10,
    latitude: null,
    longitude: null,
  });
  zone.id = Number(zone.id); // save() returns generated bigint ids as strings
  const camera = await addCamera(t, zone, opts.cameraActive ?? true);
  return { zone, ...camera };
}

export async function addCamera(t: TestApp, zone: Zone, active = true): Promise<{ camera: Camera; key: string }> {
  const { key, hash } = generateDeviceKey();
  const camera = await t.ds.getRepository(Camera).save({
    zoneId: zone.id,
    name: `Cam ${zone.id}-${Math.random().toString(36).slice(2, 6)}`,
    isActive: active,
    createdAt: new Date(),
    apiKeyHash: hash,
    apiKeyCreatedAt: new Date(),
  });
  camera.id = Number(camera.id);
  return { camera, key };
}

/** POST /sensor/detect/ with an image, as a device does. */
export function detect(
  t: TestApp,
  opts: { key?: string; zoneId?: string | number; cameraId?: string | number; file?: Buffer; filename?: string; type?: string; headers?: Record<string, string> },
): Promise<TestResponse> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.key !== undefined) {
    headers['x-device-key'] = opts.key;
  }
  return t.request('POST', '/sensor/detect/', { raw: detectForm(opts), headers });
}
