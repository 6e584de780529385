import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { Camera } from './camera.entity';
import { Organization } from './organization.entity';
import { Zone } from './zone.entity';

function groupBy<T>(rows: T[], key: (row: T) => number): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const r of rows) {
    const k = key(r);
    const list = out.get(k);
    if (list) {
      list.push(r);
    } else {
      out.set(k, [r]);
    }
  }
  return out;
}

/**
 * Batch loaders for the nested parts of organizations, zones and cameras: one query per level
 * for a whole page, never one per row.
 */
@Injectable()
export class SiteGraph {
  constructor(
    @InjectRepository(Organization) private readonly orgs: Repository<Organization>,
    @InjectRepository(Zone) private readonly zones: Repository<Zone>,
    @InjectRepository(Camera) private readonly cameras: Repository<Camera>,
  ) {}

  async camerasByZone(zoneIds: number[]): Promise<Map<number, Camera[]>> {
    if (!zoneIds.length) {
      return new Map();
    }
    const rows = await this.cameras.find({ where: { zoneId: In(zoneIds) }, order: { id: 'ASC' } });
    return groupBy(rows, (c) => c.zoneId);
  }

  async zonesByOrganization(orgIds: number[]): Promise<Map<number, Zone[]>> {
    if (!orgIds.length) {
      return new Map();
    }
    const rows = await this.zones.find({ where: { organizationId: In(orgIds) }, order: { id: 'ASC' } });
    return groupBy(rows, (z) => z.organizationId);
  }

  async organizationsById(ids: number[]): Promise<Map<number, Organization>> {
    const unique = [...new Set(ids)];
    if (!unique.length) {
      return new Map();
    }
    const rows = await this.orgs.findBy({ id: In(unique) });
    return new Map(rows.map((o) => [o.id, o]));
  }

  async zonesById(ids: number[]): Promise<Map<number, Zone>> {
    const unique = [...new Set(ids)];
    if (!unique.length) {
      return new Map();
    }
    const rows = await this.zones.findBy({ id: In(unique) });
    return new Map(rows.map((z) => [z.id, z]));
  }

  async organizationExists(id: number): Promise<boolean> {
    return this.orgs.existsBy({ id });
  }

  async zoneExists(id: number): Promise<boolean> {
    return this.zones.existsBy({ id });
  }
}
