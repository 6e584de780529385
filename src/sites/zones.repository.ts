import { Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { ValidationError } from '../common/errors';
import type { Page } from '../common/validation';
import type { ListResult } from '../common/wire';
import { TableRepository, type Tx } from '../database/unit-of-work';
import { groupBy } from './group-by';
import { Zone } from './zone.entity';

/** The columns a new zone is written with (the id is generated). */
export type NewZone = Omit<Zone, 'id' | 'organization' | 'cameras'>;
export type ZonePatch = Partial<NewZone>;

/** Every query of `lims_zone`. */
@Injectable()
export class ZonesRepository extends TableRepository<Zone> {
  protected readonly entity = Zone;

  constructor(ds: DataSource) {
    super(ds);
  }

  /** Id ascending, optionally of one organization (an unknown one gives an empty page). */
  async findPage(page: Page, filter: { orgId?: number }, tx?: Tx): Promise<ListResult<Zone>> {
    const [items, total] = await this.repo(tx).findAndCount({
      where: filter.orgId === undefined ? {} : { organizationId: filter.orgId },
      order: { id: 'ASC' },
      skip: page.offset,
      take: page.limit,
    });
    return { items, total };
  }

  async findByIds(ids: number[], tx?: Tx): Promise<Map<number, Zone>> {
    const unique = [...new Set(ids)];
    if (!unique.length) {
      return new Map();
    }
    const rows = await this.repo(tx).findBy({ id: In(unique) });
    return new Map(rows.map((z) => [z.id, z]));
  }

  /** Per organization, its zones id ascending (one query for a whole page). */
  async findByOrganizationIds(orgIds: number[], tx?: Tx): Promise<Map<number, Zone[]>> {
    if (!orgIds.length) {
      return new Map();
    }
    const rows = await this.repo(tx).find({ where: { organizationId: In(orgIds) }, order: { id: 'ASC' } });
    return groupBy(rows, (z) => z.organizationId);
  }

  /** An organization deleted after the caller's existence check answers 400 `Invalid pk`, not 500. */
  insert(values: NewZone, tx?: Tx): Promise<Zone> {
    return this.insertRow(values, { organization_id: () => ValidationError.invalidPk('organization_id', values.organizationId) }, tx);
  }

  /**
   * Matches no row when the zone itself is gone (the caller's read-back answers 404); a target
   * organization deleted after the existence check answers 400 `Invalid pk`.
   */
  update(id: number, patch: ZonePatch, tx?: Tx): Promise<void> {
    return this.updateRow(id, patch, { organization_id: () => ValidationError.invalidPk('organization_id', patch.organizationId) }, tx);
  }
}
