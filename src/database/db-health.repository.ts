import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { BaseRepository } from './unit-of-work';

/** The database probe of `/api/health/` and `/health/ready`. */
@Injectable()
export class DbHealthRepository extends BaseRepository {
  constructor(ds: DataSource) {
    super(ds);
  }

  /** One round trip on a pooled connection: fails when the pool or the server cannot answer. */
  async ping(): Promise<void> {
    await this.manager().query('SELECT 1');
  }
}
