import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { BaseRepository, type Tx } from '../database/unit-of-work';

/** Alert snapshots (ALERTING.md §5), stored in the database: alerts are rare, images ≤ 1024 px. */
@Injectable()
export class SnapshotsRepository extends BaseRepository {
  constructor(ds: DataSource) {
    super(ds);
  }

  async insert(alertId: number, jpeg: Buffer, tx?: Tx): Promise<void> {
    await this.rows(`INSERT INTO ecoflow_alert_snapshot (alert_id, image) VALUES ($1, $2) ON CONFLICT (alert_id) DO NOTHING`, [alertId, jpeg], tx);
  }

  /** The JPEG, or null when the alert has none. */
  async find(alertId: number): Promise<Buffer | null> {
    const rows = await this.rows<{ image: Buffer | Uint8Array }>(`SELECT image FROM ecoflow_alert_snapshot WHERE alert_id = $1`, [alertId]);
    if (!rows.length) {
      return null;
    }
    const img = rows[0].image;
    return Buffer.isBuffer(img) ? img : Buffer.from(img.buffer, img.byteOffset, img.byteLength);
  }

  /**
   * Deletes up to `batch` snapshots taken before `cutoff` (oldest first, by the created_at
   * index); the number deleted. Small batches: each row is an image.
   */
  async purgeOlderThan(cutoff: Date, batch: number): Promise<number> {
    const rows = await this.rows<{ alert_id: number }>(
      `DELETE FROM ecoflow_alert_snapshot WHERE alert_id IN (
         SELECT alert_id FROM ecoflow_alert_snapshot WHERE created_at < $1 ORDER BY created_at LIMIT $2)
       RETURNING alert_id`,
      [cutoff, batch],
    );
    return rows.length;
  }
}
