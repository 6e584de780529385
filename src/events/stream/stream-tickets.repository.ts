import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { BaseRepository } from '../../database/unit-of-work';

/** Every query of `ecoflow_stream_ticket`: only a ticket's sha256 is stored, never the ticket. */
@Injectable()
export class StreamTicketsRepository extends BaseRepository {
  constructor(ds: DataSource) {
    super(ds);
  }

  /** Expiry on the database's clock, so every instance agrees on it. */
  async insert(hash: string, userId: number, ttlSec: number): Promise<void> {
    await this.manager().query(`INSERT INTO ecoflow_stream_ticket (ticket_hash, user_id, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))`, [
      hash,
      userId,
      ttlSec,
    ]);
  }

  /** Single use across instances: the row is deleted by whoever redeems it first; the user id, or null. */
  async redeem(hash: string): Promise<number | null> {
    const rows = await this.rows<{ user_id: number | string }>(`DELETE FROM ecoflow_stream_ticket WHERE ticket_hash = $1 AND expires_at > now() RETURNING user_id`, [hash]);
    return rows.length ? Number(rows[0].user_id) : null;
  }

  /** Deletes up to `batch` expired tickets; says how many. */
  async purgeExpired(batch: number): Promise<number> {
    const rows = await this.rows(
      `DELETE FROM ecoflow_stream_ticket WHERE ticket_hash IN (SELECT ticket_hash FROM ecoflow_stream_ticket WHERE expires_at <= now() LIMIT $1) RETURNING ticket_hash`,
      [batch],
    );
    return rows.length;
  }
}
