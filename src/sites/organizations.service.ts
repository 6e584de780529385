import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { NotFoundError } from '../common/errors';
import { INT32_MAX, type Page, type Schema } from '../common/validation';
import { CarbonStatsCache } from '../carbon/carbon-stats.cache';
import { validateWithRefs } from '../common/body-validation';
import type { OrganizationDto } from './dto/site.dto';
import { Organization } from './organization.entity';
import { SiteGraph } from './site-graph';
import { presentOrganization } from './sites.presenter';
import { definedOnly, type ListResult } from '../common/wire';

const ORGANIZATION_FIELDS = {
  name: { kind: 'string', max: 255, required: true },
  org_type: { kind: 'string', max: 100, required: true },
  total_capacity: { kind: 'int', min: 0, max: INT32_MAX, default: 0 },
  latitude: { kind: 'decimal', nullable: true },
  longitude: { kind: 'decimal', nullable: true },
} satisfies Schema;

@Injectable()
export class OrganizationsService {
  constructor(
    @InjectRepository(Organization) private readonly orgs: Repository<Organization>,
    private readonly graph: SiteGraph,
    private readonly carbonCache: CarbonStatsCache,
  ) {}

  async list(page: Page): Promise<ListResult<OrganizationDto>> {
    const [rows, total] = await this.orgs.findAndCount({ order: { createdAt: 'DESC', id: 'DESC' }, skip: page.offset, take: page.limit });
    return { items: await this.present(rows), total };
  }

  async get(id: number): Promise<OrganizationDto> {
    const [dto] = await this.present([await this.load(id)]);
    return dto;
  }

  async create(body: unknown): Promise<OrganizationDto> {
    const v = await validateWithRefs(body, ORGANIZATION_FIELDS, { partial: false }, {});
    const now = new Date();
    const org = await this.orgs.save(
      this.orgs.create({
        name: v.name,
        orgType: v.org_type,
        totalCapacity: v.total_capacity ?? 0,
        latitude: v.latitude ?? null,
        longitude: v.longitude ?? null,
        createdAt: now,
        updatedAt: now,
      }),
    );
    return presentOrganization(org, [], new Map());
  }

  /** PUT and PATCH alike: a partial update (C10); 404 before body validation. */
  async update(id: number, body: unknown): Promise<OrganizationDto> {
    await this.load(id);
    const v = await validateWithRefs(body, ORGANIZATION_FIELDS, { partial: true }, {});
    await this.orgs.update(
      { id },
      definedOnly({
        name: v.name,
        orgType: v.org_type,
        totalCapacity: v.total_capacity,
        latitude: v.latitude,
        longitude: v.longitude,
        updatedAt: new Date(),
      }),
    );
    return this.get(id);
  }

  /** Zones, cameras, alerts and carbon logs go with it (ON DELETE CASCADE). */
  async remove(id: number): Promise<void> {
    const res = await this.orgs.createQueryBuilder().delete().from(Organization).where('id = :id', { id }).returning('id').execute();
    if (!(res.raw as unknown[]).length) {
      throw new NotFoundError('Organization');
    }
    await this.carbonCache.invalidateAll();
  }

  private async load(id: number): Promise<Organization> {
    const org = await this.orgs.findOneBy({ id });
    if (!org) {
      throw new NotFoundError('Organization');
    }
    return org;
  }

  private async present(rows: Organization[]): Promise<OrganizationDto[]> {
    const zonesByOrg = await this.graph.zonesByOrganization(rows.map((o) => o.id));
    const zoneIds = [...zonesByOrg.values()].flat().map((z) => z.id);
    const camerasByZone = await this.graph.camerasByZone(zoneIds);
    return rows.map((o) => presentOrganization(o, zonesByOrg.get(o.id) ?? [], camerasByZone));
  }
}
