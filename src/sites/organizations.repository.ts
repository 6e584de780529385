import { Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import type { Page } from '../common/validation';
import type { ListResult } from '../common/wire';
import { TableRepository, type Tx } from '../database/unit-of-work';
import { Organization } from './organization.entity';

/** The columns a new organization is written with (the id is generated). */
export type NewOrganization = Omit<Organization, 'id' | 'zones'>;
export type OrganizationPatch = Partial<NewOrganization>;

/** Every query of `lims_organization`. */
@Injectable()
export class OrganizationsRepository extends TableRepository<Organization> {
  protected readonly entity = Organization;

  constructor(ds: DataSource) {
    super(ds);
  }

  /** Newest first; the id breaks ties so pages never overlap. */
  async findPage(page: Page, tx?: Tx): Promise<ListResult<Organization>> {
    const [items, total] = await this.repo(tx).findAndCount({ order: { createdAt: 'DESC', id: 'DESC' }, skip: page.offset, take: page.limit });
    return { items, total };
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
}
