import { Injectable } from '@nestjs/common';
import { CarbonStatsCache } from '../carbon/carbon-stats.cache';
import { NotFoundError, ValidationError } from '../common/errors';
import type { Page } from '../common/validation';
import type { ListResult } from '../common/wire';
import type { CreateZoneInput, UpdateZoneInput } from './dto/site.input';
import { SiteGraph, type ZoneDetail } from './site-graph';
import { ZonesRepository } from './zones.repository';

@Injectable()
export class ZonesService {
  constructor(
    private readonly zones: ZonesRepository,
    private readonly graph: SiteGraph,
    private readonly carbonCache: CarbonStatsCache,
  ) {}

  async list(page: Page, filter: { orgId?: number }): Promise<ListResult<ZoneDetail>> {
    const { items, total } = await this.zones.findPage(page, filter);
    return { items: await this.graph.zoneDetails(items), total };
  }

  async get(id: number): Promise<ZoneDetail> {
    const zone = await this.zones.findById(id);
    const [detail] = zone ? await this.graph.zoneDetails([zone]) : [];
    if (!detail) {
      throw new NotFoundError('Zone'); // or its organization was deleted meanwhile
    }
    return detail;
  }

  /** 404 unless it exists: PUT and PATCH answer that before validating the body (spec §2). */
  async assertExists(id: number): Promise<void> {
    if (!(await this.zones.exists(id))) {
      throw new NotFoundError('Zone');
    }
  }

  /** The `organization_id` check of the body validation (through SiteGraph, which tests hook). */
  organizationExists(id: number): Promise<boolean> {
    return this.graph.organizationExists(id);
  }

  async create(input: CreateZoneInput): Promise<ZoneDetail> {
    const zone = await this.zones.insert(input);
    try {
      return await this.get(zone.id);
    } catch (err) {
      // inserted, then taken by the organization's cascade before we read it back
      throw err instanceof NotFoundError ? ValidationError.invalidPk('organization_id', input.organizationId) : err;
    }
  }

  /** PUT and PATCH alike; `organizationId` moves the zone. A zone deleted meanwhile answers 404. */
  async update(id: number, input: UpdateZoneInput): Promise<ZoneDetail> {
    await this.zones.update(id, input);
    return this.get(id);
  }

  /** Cameras, alerts and carbon logs go with it (ON DELETE CASCADE); cached stats are dropped. */
  async remove(id: number): Promise<void> {
    if (!(await this.zones.delete(id))) {
      throw new NotFoundError('Zone');
    }
    await this.carbonCache.invalidateAll();
  }
}
