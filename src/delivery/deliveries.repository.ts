import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Page } from '../common/validation';
import { isoTimestamp, type ListResult } from '../common/wire';
import { BaseRepository, type Tx } from '../database/unit-of-work';
import { TEST_EVENT_TYPE, type EventEnvelope, type EventType } from '../events/event-types';
import type { DeliveryChannelName } from './delivery-channel';

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'exhausted';

/** A row of the delivery log (ALERTING.md §2 `GET /webhooks/{id}/deliveries/`). */
export interface Delivery {
  id: number;
  eventId: number;
  eventType: EventType;
  channel: DeliveryChannelName;
  targetId: number;
  status: DeliveryStatus;
  attempts: number;
  timeouts: number;
  lastResponseStatus: number | null;
  lastError: string | null;
  lastAttemptAt: Date | null;
  nextAttemptAt: Date | null;
  durationMs: number | null;
  createdAt: Date;
}

/** A delivery claimed by one instance, with its event; `leaseToken` identifies the claim. */
export interface ClaimedDelivery extends Delivery {
  leaseToken: string;
  event: EventEnvelope;
}

interface EventColumns {
  event_organization_id: number | null;
  event_created_at: Date | string;
  event_data: Record<string, unknown> | string;
}

function eventOf(r: DeliveryRow & EventColumns): EventEnvelope {
  return {
    id: r.event_id,
    type: r.event_type,
    created_at: isoTimestamp(r.event_created_at),
    organization_id: r.event_organization_id,
    data: typeof r.event_data === 'string' ? (JSON.parse(r.event_data) as Record<string, unknown>) : r.event_data,
  };
}

export interface AttemptRecord {
  status: DeliveryStatus;
  responseStatus: number | null;
  error: string | null;
  durationMs: number;
  timedOut: boolean;
  nextAttemptAt: Date | null;
}

interface DeliveryRow {
  id: number;
  event_id: number;
  event_type: EventType;
  channel: DeliveryChannelName;
  webhook_id: number | null;
  recipient_id: number | null;
  status: DeliveryStatus;
  attempts: number;
  timeouts: number;
  last_response_status: number | null;
  last_error: string | null;
  last_attempt_at: Date | string | null;
  next_attempt_at: Date | string | null;
  duration_ms: number | null;
  created_at: Date | string;
}

const date = (v: Date | string | null): Date | null => (v === null ? null : v instanceof Date ? v : new Date(v));

function toDelivery(r: DeliveryRow): Delivery {
  return {
    id: r.id,
    eventId: Number(r.event_id),
    eventType: r.event_type,
    channel: r.channel,
    targetId: Number(r.webhook_id ?? r.recipient_id),
    status: r.status,
    attempts: r.attempts,
    timeouts: r.timeouts,
    lastResponseStatus: r.last_response_status,
    lastError: r.last_error,
    lastAttemptAt: date(r.last_attempt_at),
    nextAttemptAt: date(r.next_attempt_at),
    durationMs: r.duration_ms,
    createdAt: date(r.created_at)!,
  };
}

const TARGET_COLUMN: Record<DeliveryChannelName, 'webhook_id' | 'recipient_id'> = { webhook: 'webhook_id', whatsapp: 'recipient_id' };
const COLUMNS = `d.id, d.event_id, e.type AS event_type, d.channel, d.webhook_id, d.recipient_id, d.status, d.attempts, d.timeouts,
  d.last_response_status, d.last_error, d.last_attempt_at, d.next_attempt_at, d.duration_ms, d.created_at`;

/**
 * Every query of `ecoflow_delivery`, the outbox and delivery log in one table: a row per (event,
 * subscription), claimed by one instance at a time with a lease, so a killed instance's
 * in-flight attempt is claimed again by another once the lease runs out.
 */
@Injectable()
export class DeliveriesRepository extends BaseRepository {
  constructor(ds: DataSource) {
    super(ds);
  }

  /**
   * Inside the event's transaction: one pending delivery per active subscription that wants this
   * event (its type or `*`, all organizations or the event's). Reads the subscription tables
   * because the choice must commit with the event. WhatsApp recipients only when `whatsapp` is on.
   */
  async fanOut(event: EventEnvelope, opts: { whatsapp: boolean }, tx: Tx): Promise<number> {
    if (event.type === TEST_EVENT_TYPE) {
      return 0;
    }
    const now = new Date();
    const rows = await this.rows(
      `INSERT INTO ecoflow_delivery (event_id, channel, webhook_id, status, next_attempt_at, created_at)
       SELECT $1, 'webhook', w.id, 'pending', $4, $4 FROM ecoflow_webhook w
        WHERE w.is_active AND ($2 = ANY (w.event_types) OR '*' = ANY (w.event_types))
          AND (w.organization_id IS NULL OR w.organization_id = $3)
       RETURNING id`,
      [event.id, event.type, event.organization_id, now],
      tx,
    );
    let n = rows.length;
    if (opts.whatsapp) {
      const r = await this.rows(
        `INSERT INTO ecoflow_delivery (event_id, channel, recipient_id, status, next_attempt_at, created_at)
         SELECT $1, 'whatsapp', r.id, 'pending', $4, $4 FROM ecoflow_alert_recipient r
          WHERE r.is_active AND $2 = ANY (r.event_types)
            AND (r.organization_id IS NULL OR r.organization_id = $3)
         RETURNING id`,
        [event.id, event.type, event.organization_id, now],
        tx,
      );
      n += r.length;
    }
    return n;
  }

  /** One delivery of `event` to one subscription, due now (test events, §2). */
  async insertOne(eventId: number, channel: DeliveryChannelName, targetId: number, tx?: Tx): Promise<number> {
    const now = new Date();
    const rows = await this.rows<{ id: number }>(
      `INSERT INTO ecoflow_delivery (event_id, channel, ${TARGET_COLUMN[channel]}, status, next_attempt_at, created_at)
       VALUES ($1, $2, $3, 'pending', $4, $4) RETURNING id`,
      [eventId, channel, targetId, now],
      tx,
    );
    return rows[0].id;
  }

  /**
   * Claims up to `limit` due deliveries, most overdue first, at most one per subscription and none
   * for a subscription with an attempt in flight on this instance (`busy`): one slow endpoint
   * holds at most one of the instance's slots. Candidates are ranked without locks, then locked
   * with SKIP LOCKED, which re-checks each row's due condition on its newest version: an attempt
   * is claimed by exactly one instance. Each claim is a lease (`leaseMs`) identified by its
   * token; the event comes along, so an attempt needs no further read of the log.
   */
  async claimDue(busy: { webhook: number[]; whatsapp: number[] }, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    const token = randomUUID();
    const rows = await this.rows<DeliveryRow & EventColumns>(
      `WITH candidates AS (
         SELECT id, next_attempt_at FROM (
           SELECT id, next_attempt_at,
                  row_number() OVER (PARTITION BY channel, COALESCE(webhook_id, recipient_id) ORDER BY next_attempt_at, id) AS nth
             FROM (SELECT id, channel, webhook_id, recipient_id, next_attempt_at FROM ecoflow_delivery
                    WHERE status IN ('pending', 'failed') AND next_attempt_at IS NOT NULL AND next_attempt_at <= now()
                      AND (lease_until IS NULL OR lease_until < now())
                      AND NOT (webhook_id IS NOT NULL AND webhook_id = ANY ($1::bigint[]))
                      AND NOT (recipient_id IS NOT NULL AND recipient_id = ANY ($2::bigint[]))
                    ORDER BY next_attempt_at, id
                    LIMIT 500) due) ranked
          WHERE nth = 1
          ORDER BY next_attempt_at, id
          LIMIT $3),
       locked AS (
         SELECT d.id FROM ecoflow_delivery d JOIN candidates c ON c.id = d.id
          WHERE d.status IN ('pending', 'failed') AND d.next_attempt_at <= now() AND (d.lease_until IS NULL OR d.lease_until < now())
          FOR UPDATE OF d SKIP LOCKED)
       UPDATE ecoflow_delivery d
          SET lease_until = now() + ($4::int * interval '1 millisecond'), lease_token = $5::uuid, attempts = d.attempts + 1, last_attempt_at = now()
         FROM locked, ecoflow_event e
        WHERE d.id = locked.id AND e.id = d.event_id
       RETURNING ${COLUMNS}, e.organization_id AS event_organization_id, e.created_at AS event_created_at, e.data AS event_data`,
      [busy.webhook, busy.whatsapp, limit, Math.round(leaseMs), token],
    );
    return rows.map((r) => ({ ...toDelivery(r), leaseToken: token, event: eventOf(r) }));
  }

  /**
   * Writes an attempt's outcome and ends the claim. Matches nothing when the claim was lost (the
   * lease ran out and another instance claimed again) or the delivery was dropped: then false.
   */
  async recordAttempt(d: ClaimedDelivery, rec: AttemptRecord): Promise<boolean> {
    const rows = await this.rows(
      `UPDATE ecoflow_delivery
          SET status = $3, last_response_status = $4, last_error = $5, duration_ms = $6,
              timeouts = timeouts + $7, next_attempt_at = $8, lease_until = NULL, lease_token = NULL
        WHERE id = $1 AND lease_token = $2::uuid
       RETURNING id`,
      [d.id, d.leaseToken, rec.status, rec.responseStatus, rec.error, Math.round(rec.durationMs), rec.timedOut ? 1 : 0, rec.nextAttemptAt],
    );
    return rows.length > 0;
  }

  /** A subscription's deliveries, newest first. */
  async findPage(channel: DeliveryChannelName, targetId: number, page: Page): Promise<ListResult<Delivery>> {
    const col = TARGET_COLUMN[channel];
    const [{ n }] = (await this.ds.query(`SELECT count(*)::int AS n FROM ecoflow_delivery WHERE ${col} = $1`, [targetId])) as { n: number }[];
    const rows = (await this.ds.query(
      `SELECT ${COLUMNS} FROM ecoflow_delivery d JOIN ecoflow_event e ON e.id = d.event_id
        WHERE d.${col} = $1 ORDER BY d.id DESC LIMIT $2 OFFSET $3`,
      [targetId, page.limit, page.offset],
    )) as DeliveryRow[];
    return { items: rows.map(toDelivery), total: n };
  }

  async findOne(channel: DeliveryChannelName, targetId: number, deliveryId: number): Promise<Delivery | null> {
    const rows = (await this.ds.query(
      `SELECT ${COLUMNS} FROM ecoflow_delivery d JOIN ecoflow_event e ON e.id = d.event_id WHERE d.id = $1 AND d.${TARGET_COLUMN[channel]} = $2`,
      [deliveryId, targetId],
    )) as DeliveryRow[];
    return rows.length ? toDelivery(rows[0]) : null;
  }

  /**
   * Manual retry (§2): a failed or exhausted delivery becomes due now. False when it is pending,
   * succeeded, or not this subscription's.
   */
  async retryNow(channel: DeliveryChannelName, targetId: number, deliveryId: number): Promise<boolean> {
    const rows = await this.rows(
      `UPDATE ecoflow_delivery SET status = 'failed', next_attempt_at = now()
        WHERE id = $1 AND ${TARGET_COLUMN[channel]} = $2 AND status IN ('failed', 'exhausted')
       RETURNING id`,
      [deliveryId, targetId],
    );
    return rows.length > 0;
  }

  /** Seconds the most overdue due delivery has waited (0 when none): the outbox's lag (§7). */
  async oldestDueSeconds(): Promise<number> {
    const rows = (await this.ds.query(
      `SELECT COALESCE(EXTRACT(EPOCH FROM (now() - min(next_attempt_at))), 0)::float8 AS s FROM ecoflow_delivery
        WHERE status IN ('pending', 'failed') AND next_attempt_at IS NOT NULL AND next_attempt_at <= now()`,
    )) as { s: number | string }[];
    return Math.max(0, Number(rows[0].s));
  }

  /**
   * True when a subscription has had deliveries for longer than `since` and none of them
   * succeeded since then (the "failing since" rule of §2).
   */
  async failingSince(channel: DeliveryChannelName, targetId: number, since: Date): Promise<boolean> {
    const col = TARGET_COLUMN[channel];
    const rows = (await this.ds.query(
      `SELECT
         EXISTS (SELECT 1 FROM ecoflow_delivery WHERE ${col} = $1 AND created_at <= $2 AND status <> 'succeeded') AS old_failure,
         EXISTS (SELECT 1 FROM ecoflow_delivery WHERE ${col} = $1 AND status = 'succeeded' AND last_attempt_at >= $2) AS recent_success`,
      [targetId, since],
    )) as { old_failure: boolean; recent_success: boolean }[];
    return rows[0].old_failure && !rows[0].recent_success;
  }
}
