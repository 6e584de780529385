import { Injectable } from '@nestjs/common';
import { DataSource, In, type Repository } from 'typeorm';
import type { Page } from '../common/validation';
import type { ListResult } from '../common/wire';
import { BaseRepository, type Tx } from '../database/unit-of-work';
import { Organization } from './organization.entity';

/** The columns a new organization is written with (the id is generated). */
export type NewOrganization = Omit<Organization, 'id' | 'zones'>;
export type OrganizationPatch = Partial<NewOrganization>;

/** Every query of `lims_organization`. */
@Injectable()
export class OrganizationsRepository extends BaseRepository {
  constructor(ds: DataSource) {
    super(ds);
  }

  private repo(tx?: Tx): Repository<Organization> {
    return this.manager(tx).getRepository(Organization);
  }

  /** Newest first; the id breaks ties so pages never overlap. */
  async findPage(page: Page, tx?: Tx): Promise<ListResult<Organization>> {
    const [items, total] = await this.repo(tx).findAndCount({ order: { createdAt: 'DESC', id: 'DESC' }, skip: page.offset, take: page.limit });
    return { items, total };
  }

  findById(id: number, tx?: Tx): Promise<Organization | null> {
    return this.repo(tx).findOneBy({ id });
  }

  exists(id: number, tx?: Tx): Promise<boolean> {
    return this.repo(tx).existsBy({ id });
  }

  async findByIds(ids: number[], tx?: Tx): Promise<Map<number, Organization>> {
    const unique = [...new Set(ids)];
    if (!unique.length) {
      return new Map();
    }
    const rows = await this.repo(tx).findBy({ id: In(unique) });
    return new Map(rows.map((o) => [o.id, o]));
  }

  insert(values: NewOrganization, tx?: Tx): Promise<Organization> {
    const repo = this.repo(tx);
    return repo.save(repo.create(values));
  }

  /** Matches no row when the organization is gone; the caller's read-back answers 404. */
  async update(id: number, patch: OrganizationPatch, tx?: Tx): Promise<void> {
    if (Object.keys(patch).length) {
      await this.repo(tx).update({ id }, patch);
    }
  }

  /** Zones, cameras, alerts and carbon logs go with it (ON DELETE CASCADE). False when there was no such row. */
  async delete(id: number, tx?: Tx): Promise<boolean> {
    const res = await this.repo(tx).createQueryBuilder().delete().from(Organization).where('id = :id', { id }).returning('id').execute();
    return (res.raw as unknown[]).length > 0;
  }
}
