import { Injectable } from '@nestjs/common';
import { CarbonStatsCache } from '../carbon/carbon-stats.cache';
import { NotFoundError } from '../common/errors';
import type { Page } from '../common/validation';
import type { ListResult } from '../common/wire';
import type { CreateOrganizationInput, UpdateOrganizationInput } from './dto/site.input';
import { OrganizationsRepository } from './organizations.repository';
import { SiteGraph, type OrganizationTree } from './site-graph';

@Injectable()
export class OrganizationsService {
  constructor(
    private readonly orgs: OrganizationsRepository,
    private readonly graph: SiteGraph,
    private readonly carbonCache: CarbonStatsCache,
  ) {}

  async list(page: Page): Promise<ListResult<OrganizationTree>> {
    const { items, total } = await this.orgs.findPage(page);
    return { items: await this.graph.organizationTrees(items), total };
  }

  async get(id: number): Promise<OrganizationTree> {
    const org = await this.orgs.findById(id);
    if (!org) {
      throw new NotFoundError('Organization');
    }
    const [tree] = await this.graph.organizationTrees([org]);
    return tree;
  }

  /** 404 unless it exists: PUT and PATCH answer that before validating the body (spec §2). */
  async assertExists(id: number): Promise<void> {
    if (!(await this.orgs.exists(id))) {
      throw new NotFoundError('Organization');
    }
  }

  async create(input: CreateOrganizationInput): Promise<OrganizationTree> {
    const now = new Date();
    const organization = await this.orgs.insert({ ...input, createdAt: now, updatedAt: now });
    return { organization, zones: [] };
  }

  /** PUT and PATCH alike: a partial update (C10). */
  async update(id: number, input: UpdateOrganizationInput): Promise<OrganizationTree> {
    await this.orgs.update(id, { ...input, updatedAt: new Date() });
    return this.get(id);
  }

  /** Zones, cameras, alerts and carbon logs go with it (ON DELETE CASCADE); cached stats are dropped. */
  async remove(id: number): Promise<void> {
    if (!(await this.orgs.delete(id))) {
      throw new NotFoundError('Organization');
    }
    await this.carbonCache.invalidateAll();
  }
}
