import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { BaseRepository } from './unit-of-work';

/** The getters node-postgres' Pool has, and the embedded pool mirrors. */
export interface PoolCounts {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/** The connection pool's state, for the `db_pool_connections` gauge; read only, no query. */
@Injectable()
export class PoolStatsRepository extends BaseRepository {
  constructor(ds: DataSource) {
    super(ds);
  }

  /** Null before the driver has created its pool (or with a driver that has none). */
  counts(): PoolCounts | null {
    // TypeORM's postgres driver keeps the pool in `master`, which its typings do not expose
    const master = (this.ds.driver as unknown as { master?: Partial<PoolCounts> }).master;
    return master && typeof master.totalCount === 'number' ? (master as PoolCounts) : null;
  }
}
