import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { isoTimestamp } from '../common/wire';
import { BaseRepository, type Tx } from '../database/unit-of-work';
import { TEST_EVENT_TYPE, type EventEnvelope, type EventType } from './event-types';

/** The NOTIFY channel every instance LISTENs on (event-signal.ts); the payload is the event id. */
export const EVENT_CHANNEL = 'ecoflow_event';
// Arbitrary fixed key of the transaction-scoped lock under which event ids are allocated.
const EVENT_ID_LOCK_KEY = 7320402;

interface EventRow {
  id: number;
  type: EventType;
  organization_id: number | null;
  created_at: Date | string;
  data: Record<string, unknown> | string;
}

function toEnvelope(r: EventRow): EventEnvelope {
  return {
    id: r.id,
    type: r.type,
    created_at: isoTimestamp(r.created_at),
    organization_id: r.organization_id === null ? null : Number(r.organization_id),
    data: typeof r.data === 'string' ? (JSON.parse(r.data) as Record<string, unknown>) : r.data,
  };
}

export interface EventQuery {
  after: number;
  types?: readonly string[];
  orgId?: number;
  limit: number;
}

/** Every query of `ecoflow_event`. */
@Injectable()
export class EventsRepository extends BaseRepository {
  constructor(ds: DataSource) {
    super(ds);
  }

  /**
   * Appends an event inside the caller's transaction. The id is allocated under a
   * transaction-scoped advisory lock held until commit, and PostgreSQL makes a commit visible
   * before it releases the transaction's locks: so a reader that has seen id N never later sees
   * a smaller id appear (ALERTING.md §1), which makes `after=` and `Last-Event-ID` exact. Call it
   * as the transaction's last write: the lock serializes event-writing transactions from here to
   * their commit. The NOTIFY is delivered to listeners at commit, never for a rollback.
   */
  async append(type: EventType, organizationId: number | null, data: Record<string, unknown>, tx: Tx): Promise<EventEnvelope> {
    const m = this.manager(tx);
    await m.query('SELECT pg_advisory_xact_lock($1)', [EVENT_ID_LOCK_KEY]);
    const rows = (await m.query(
      `INSERT INTO ecoflow_event (type, organization_id, created_at, data) VALUES ($1, $2, $3, $4::jsonb)
       RETURNING id, type, organization_id, created_at, data`,
      [type, organizationId, new Date(), JSON.stringify(data)],
    )) as EventRow[];
    const event = toEnvelope(rows[0]);
    await m.query('SELECT pg_notify($1, $2)', [EVENT_CHANNEL, String(event.id)]);
    return event;
  }

  /** Ascending ids after `after`; `webhook.test` events are never listed. */
  async findAfter(q: EventQuery, tx?: Tx): Promise<EventEnvelope[]> {
    const params: unknown[] = [q.after, TEST_EVENT_TYPE];
    const where = ['id > $1', 'type <> $2'];
    if (q.types?.length) {
      params.push([...q.types]);
      where.push(`type = ANY($${params.length}::text[])`);
    }
    if (q.orgId !== undefined) {
      params.push(q.orgId);
      where.push(`organization_id = $${params.length}`);
    }
    params.push(q.limit);
    const rows = (await this.manager(tx).query(
      `SELECT id, type, organization_id, created_at, data FROM ecoflow_event WHERE ${where.join(' AND ')} ORDER BY id LIMIT $${params.length}`,
      params,
    )) as EventRow[];
    return rows.map(toEnvelope);
  }

  /** The newest committed id (0 for an empty log). */
  async lastId(tx?: Tx): Promise<number> {
    const rows = (await this.manager(tx).query(`SELECT COALESCE(max(id), 0)::bigint AS id FROM ecoflow_event`)) as { id: number }[];
    return rows[0].id;
  }

  /**
   * Deletes up to `batch` events created before `cutoff` (their delivery log goes with them) and
   * says how many: callers loop in small batches, never one long transaction (§6).
   */
  async purgeBefore(cutoff: Date, batch: number): Promise<number> {
    const rows = await this.rows(
      `DELETE FROM ecoflow_event WHERE id IN (SELECT id FROM ecoflow_event WHERE created_at < $1 ORDER BY id LIMIT $2) RETURNING id`,
      [cutoff, batch],
    );
    return rows.length;
  }
}
