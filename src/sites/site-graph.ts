import { Injectable } from '@nestjs/common';
import type { Camera } from './camera.entity';
import { CamerasRepository } from './cameras.repository';
import type { Organization } from './organization.entity';
import { OrganizationsRepository } from './organizations.repository';
import type { Zone } from './zone.entity';
import { ZonesRepository } from './zones.repository';

// What the sites services return; sites.presenter.ts turns them into the wire shapes of §4.1.

/** An organization with its zones and their cameras, all id ascending. */
export interface OrganizationTree {
  organization: Organization;
  zones: { zone: Zone; cameras: Camera[] }[];
}

/** A zone with its organization and its cameras (id ascending). */
export interface ZoneDetail {
  zone: Zone;
  organization: Organization;
  cameras: Camera[];
}

/** A camera with its zone and that zone's organization. */
export interface CameraDetail {
  camera: Camera;
  zone: Zone;
  organization: Organization;
}

/**
 * Batch loaders for the nested parts of organizations, zones and cameras (one query per level for
 * a whole page, never one per row), and the existence checks other features use for their
 * `Invalid pk` answers. Every query is a repository's; this class only assembles.
 */
@Injectable()
export class SiteGraph {
  constructor(
    private readonly orgs: OrganizationsRepository,
    private readonly zones: ZonesRepository,
    private readonly cameras: CamerasRepository,
  ) {}

  camerasByZone(zoneIds: number[]): Promise<Map<number, Camera[]>> {
    return this.cameras.findByZoneIds(zoneIds);
  }

  zonesByOrganization(orgIds: number[]): Promise<Map<number, Zone[]>> {
    return this.zones.findByOrganizationIds(orgIds);
  }

  organizationsById(ids: number[]): Promise<Map<number, Organization>> {
    return this.orgs.findByIds(ids);
  }

  zonesById(ids: number[]): Promise<Map<number, Zone>> {
    return this.zones.findByIds(ids);
  }

  organizationExists(id: number): Promise<boolean> {
    return this.orgs.exists(id);
  }

  zoneExists(id: number): Promise<boolean> {
    return this.zones.exists(id);
  }

  cameraExists(id: number): Promise<boolean> {
    return this.cameras.exists(id);
  }

  async organizationTrees(rows: Organization[]): Promise<OrganizationTree[]> {
    const zonesByOrg = await this.zonesByOrganization(rows.map((o) => o.id));
    const camerasByZone = await this.camerasByZone([...zonesByOrg.values()].flat().map((z) => z.id));
    return rows.map((organization) => ({
      organization,
      zones: (zonesByOrg.get(organization.id) ?? []).map((zone) => ({ zone, cameras: camerasByZone.get(zone.id) ?? [] })),
    }));
  }

  /** A zone whose organization vanished between the queries is being cascade-deleted: it is left out. */
  async zoneDetails(rows: Zone[]): Promise<ZoneDetail[]> {
    const [orgs, camerasByZone] = await Promise.all([this.organizationsById(rows.map((z) => z.organizationId)), this.camerasByZone(rows.map((z) => z.id))]);
    return rows.flatMap((zone) => {
      const organization = orgs.get(zone.organizationId);
      return organization ? [{ zone, organization, cameras: camerasByZone.get(zone.id) ?? [] }] : [];
    });
  }

  /** A camera whose zone or organization vanished between the queries is being cascade-deleted: it is left out. */
  async cameraDetails(rows: Camera[]): Promise<CameraDetail[]> {
    const zones = await this.zonesById(rows.map((c) => c.zoneId));
    const orgs = await this.organizationsById([...zones.values()].map((z) => z.organizationId));
    return rows.flatMap((camera) => {
      const zone = zones.get(camera.zoneId);
      const organization = zone && orgs.get(zone.organizationId);
      return zone && organization ? [{ camera, zone, organization }] : [];
    });
  }
}
