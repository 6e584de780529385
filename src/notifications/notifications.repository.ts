import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Page } from '../common/validation';
import type { ListResult } from '../common/wire';
import { BaseRepository, type Tx } from '../database/unit-of-work';
import { Notification } from './notification.entity';

/** Every query of `lims_notification`. */
@Injectable()
export class NotificationsRepository extends BaseRepository {
  constructor(ds: DataSource) {
    super(ds);
  }

  /** Newest first; `total` counts every notification, before paging. */
  async list(page: Page, tx?: Tx): Promise<ListResult<Notification>> {
    const [items, total] = await this.manager(tx)
      .getRepository(Notification)
      .findAndCount({ order: { createdAt: 'DESC', id: 'DESC' }, skip: page.offset, take: page.limit });
    return { items, total };
  }

  findById(id: number, tx?: Tx): Promise<Notification | null> {
    return this.manager(tx).getRepository(Notification).findOneBy({ id });
  }

  insert(n: Omit<Notification, 'id'>, tx?: Tx): Promise<Notification> {
    const repo = this.manager(tx).getRepository(Notification);
    return repo.save(repo.create(n));
  }

  /** False when there was no such row (one statement, so a concurrent delete cannot 500). */
  async deleteById(id: number, tx?: Tx): Promise<boolean> {
    const res = await this.manager(tx).createQueryBuilder().delete().from(Notification).where('id = :id', { id }).returning('id').execute();
    return (res.raw as unknown[]).length > 0;
  }
}
