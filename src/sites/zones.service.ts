import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { CarbonStatsCache } from '../carbon/carbon-stats.cache';
import { NotFoundError, ValidationError } from '../common/errors';
import { INT32_MAX, type Page, type Schema } from '../common/validation';
import { validateWithRefs } from '../common/body-validation';
import type { ZoneDto } from './dto/site.dto';
import { SiteGraph } from './site-graph';
import { presentZone } from './sites.presenter';
import { definedOnly, mapForeignKeyViolation, type ListResult } from '../common/wire';
import { Zone } from './zone.entity';

const ZONE_FIELDS = {
  name: { kind: 'string', max: 255, required: true },
  zone_type: { kind: 'string', max: 100, required: true },
  organization_id: { kind: 'pk', required: true },
  capacity: { kind: 'int', min: 0, max: INT32_MAX, default: 0 },
  latitude: { kind: 'decimal', nullable: true },
  longitude: { kind: 'decimal', nullable: true },
} satisfies Schema;

@Injectable()
export class ZonesService {
  constructor(
    @InjectRepository(Zone) private readonly zones: Repository<Zone>,
    private readonly graph: SiteGraph,
    private readonly carbonCache: CarbonStatsCache,
  ) {}

  async list(page: Page, filter: { orgId?: number }): Promise<ListResult<ZoneDto>> {
    const [rows, total] = await this.zones.findAndCount({
      where: filter.orgId === undefined ? {} : { organizationId: filter.orgId },
      order: { id: 'ASC' },
      skip: page.offset,
      take: page.limit,
    });
    return { items: await this.present(rows), total };
  }

  async get(id: number): Promise<ZoneDto> {
    const [dto] = await this.present([await this.load(id)]);
    if (!dto) {
      throw new NotFoundError('Zone'); // its organization was deleted meanwhile
    }
    return dto;
  }

  async create(body: unknown): Promise<ZoneDto> {
    const v = await validateWithRefs(body, ZONE_FIELDS, { partial: false }, { organization_id: (id) => this.graph.organizationExists(id) });
    const orgGone = (): ValidationError => ValidationError.invalidPk('organization_id', (body as Record<string, unknown>).organization_id);
    let id: number;
    try {
      const zone = await this.zones.save(
        this.zones.create({
          organizationId: v.organization_id,
          name: v.name,
          zoneType: v.zone_type,
          capacity: v.capacity ?? 0,
          latitude: v.latitude ?? null,
          longitude: v.longitude ?? null,
        }),
      );
      id = zone.id;
    } catch (err) {
      // the organization was deleted after the existence check
      throw await mapForeignKeyViolation(err, { organization_id: orgGone });
    }
    try {
      return await this.get(id);
    } catch (err) {
      // inserted, then taken by the organization's cascade before we read it back
      throw err instanceof NotFoundError ? orgGone() : err;
    }
  }

  /** PUT and PATCH alike; `organization_id` moves the zone. 404 before body validation. */
  async update(id: number, body: unknown): Promise<ZoneDto> {
    await this.load(id);
    const v = await validateWithRefs(body, ZONE_FIELDS, { partial: true }, { organization_id: (oid) => this.graph.organizationExists(oid) });
    const patch = definedOnly({
      organizationId: v.organization_id,
      name: v.name,
      zoneType: v.zone_type,
      capacity: v.capacity,
      latitude: v.latitude,
      longitude: v.longitude,
    });
    if (Object.keys(patch).length) {
      try {
        await this.zones.update({ id }, patch);
      } catch (err) {
        // the target organization was deleted after the existence check; if the zone itself
        // went, the update matched no row and get() below answers 404
        throw await mapForeignKeyViolation(err, {
          organization_id: () => ValidationError.invalidPk('organization_id', (body as Record<string, unknown>).organization_id),
        });
      }
    }
    return this.get(id);
  }

  /** Cameras, alerts and carbon logs go with it (ON DELETE CASCADE); cached stats are dropped. */
  async remove(id: number): Promise<void> {
    const res = await this.zones.createQueryBuilder().delete().from(Zone).where('id = :id', { id }).returning('id').execute();
    if (!(res.raw as unknown[]).length) {
      throw new NotFoundError('Zone');
    }
    await this.carbonCache.invalidateAll();
  }

  private async load(id: number): Promise<Zone> {
    const zone = await this.zones.findOneBy({ id });
    if (!zone) {
      throw new NotFoundError('Zone');
    }
    return zone;
  }

  private async present(rows: Zone[]): Promise<ZoneDto[]> {
    const [orgs, camerasByZone] = await Promise.all([
      this.graph.organizationsById(rows.map((z) => z.organizationId)),
      this.graph.camerasByZone(rows.map((z) => z.id)),
    ]);
    // a row whose organization vanished between the queries is being cascade-deleted: skip it
    return rows.flatMap((z) => {
      const org = orgs.get(z.organizationId);
      return org ? [presentZone(z, org, camerasByZone.get(z.id) ?? [])] : [];
    });
  }
}
