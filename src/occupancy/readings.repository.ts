import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { BaseRepository, type Tx } from '../database/unit-of-work';

export type ReadingStatus = 'NORMAL' | 'DANGER';

/** One detection that reached the threshold step (ALERTING.md §6). */
export interface NewReading {
  zoneId: number;
  cameraId: number | null;
  people: number;
  capacity: number;
  status: ReadingStatus;
}

/**
 * Writes readings. The row trigger of migration 1764720000000 keeps the zone's latest reading and
 * its hourly roll-up in the same transaction and NOTIFYs `ecoflow_occupancy`; reads and purges
 * are in occupancy.repository.ts.
 */
@Injectable()
export class ReadingsRepository extends BaseRepository {
  constructor(ds: DataSource) {
    super(ds);
  }

  /** Stamped `now()` by the table default: the transaction's start, like everything else the detection writes. */
  async insert(r: NewReading, tx?: Tx): Promise<void> {
    await this.rows(
      `INSERT INTO ecoflow_reading (zone_id, camera_id, people, capacity, status) VALUES ($1, $2, $3, $4, $5)`,
      [r.zoneId, r.cameraId, r.people, r.capacity, r.status],
      tx,
    );
  }
}
