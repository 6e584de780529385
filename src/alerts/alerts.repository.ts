import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Page } from '../common/validation';
import { definedOnly, mapForeignKeyViolation, uniqueViolation, type ListResult, type VanishedParentErrors } from '../common/wire';
import { BaseRepository, type Tx } from '../database/unit-of-work';
import { Alert, type AlertResolution, type AlertStatus } from './alert.entity';
import { OpenAlertExistsError } from './alerts.errors';
import type { AlertFilter, UpdateAlertInput } from './dto/alert.input';

const OPEN_ALERT_INDEX = 'lims_alert_one_open_uniq';

/** The columns a new alert is written with (id and timestamps are set here). */
export interface NewAlert {
  heading: string;
  subHeading: string | null;
  status: AlertStatus;
  zoneId: number;
  cameraId: number | null;
}

export interface ClaimResult {
  alert: Alert;
  /** true when this call inserted the alert, false when an open one already existed */
  created: boolean;
}

/** A lims_alert row as raw SQL returns it; int8 arrives as a number (PGlite, and pg's INT8 parser in data-source-options.ts). */
interface AlertRow {
  id: number;
  heading: string;
  sub_heading: string | null;
  status: AlertStatus;
  created_at: Date | string;
  updated_at: Date | string;
  zone_id: number | null;
  camera_id: number | null;
  acknowledged_at: Date | string | null;
  acknowledged_by: number | null;
  resolved_at: Date | string | null;
  resolved_by: number | null;
  resolution: AlertResolution | null;
  peak_people: number | null;
  last_people: number | null;
  last_detected_at: Date | string | null;
  has_snapshot: boolean;
}

function date(v: Date | string): Date;
function date(v: Date | string | null): Date | null;
function date(v: Date | string | null): Date | null {
  return v === null || v instanceof Date ? v : new Date(v);
}

function toAlert(r: AlertRow): Alert {
  return Object.assign(new Alert(), {
    id: r.id,
    cameraId: r.camera_id,
    zoneId: r.zone_id,
    heading: r.heading,
    subHeading: r.sub_heading,
    status: r.status,
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
    acknowledgedAt: date(r.acknowledged_at),
    acknowledgedBy: r.acknowledged_by,
    resolvedAt: date(r.resolved_at),
    resolvedBy: r.resolved_by,
    resolution: r.resolution,
    peakPeople: r.peak_people,
    lastPeople: r.last_people,
    lastDetectedAt: date(r.last_detected_at),
    hasSnapshot: r.has_snapshot,
  });
}

const LIFECYCLE = `acknowledged_at, acknowledged_by, resolved_at, resolved_by, resolution, peak_people, last_people, last_detected_at`;
// Reads show legacy rows (zone_id NULL, adopted from Django) with their camera's zone.
const FROM = `FROM lims_alert a
  LEFT JOIN lims_camera c ON a.zone_id IS NULL AND c.id = a.camera_id`;
const COLUMNS = `a.id, a.heading, a.sub_heading, a.status, a.created_at, a.updated_at,
  COALESCE(a.zone_id, c.zone_id) AS zone_id, a.camera_id, a.acknowledged_at, a.acknowledged_by, a.resolved_at,
  a.resolved_by, a.resolution, a.peak_people, a.last_people, a.last_detected_at,
  EXISTS (SELECT 1 FROM ecoflow_alert_snapshot s WHERE s.alert_id = a.id) AS has_snapshot`;
const RETURNING = `RETURNING id, heading, sub_heading, status, created_at, updated_at, zone_id, camera_id, ${LIFECYCLE},
  EXISTS (SELECT 1 FROM ecoflow_alert_snapshot s WHERE s.alert_id = lims_alert.id) AS has_snapshot`;
const INSERT = `INSERT INTO lims_alert (heading, sub_heading, status, created_at, updated_at, zone_id, camera_id, peak_people, last_people, last_detected_at)
  VALUES ($1, $2, $3, $4::timestamptz, $4::timestamptz, $5, $6, $7::int, $7::int, CASE WHEN $7::int IS NULL THEN NULL ELSE $4::timestamptz END)`;

/**
 * Every query of `lims_alert`, the race-free open-alert claim included. Alerts come back with
 * their exposed zone: a legacy row's is its camera's.
 */
@Injectable()
export class AlertsRepository extends BaseRepository {
  constructor(ds: DataSource) {
    super(ds);
  }

  /** Newest first; `zoneId`/`orgId` match the exposed zone. */
  async findPage(page: Page, filter: AlertFilter, tx?: Tx): Promise<ListResult<Alert>> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: (p: string) => string, value: unknown): void => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (filter.status !== undefined) {
      add((p) => `a.status = ${p}`, filter.status);
    }
    if (filter.zoneId !== undefined) {
      // written so the zone_id and camera_id indexes can serve it (no expression over the join)
      add((p) => `(a.zone_id = ${p} OR (a.zone_id IS NULL AND a.camera_id IN (SELECT id FROM lims_camera WHERE zone_id = ${p})))`, filter.zoneId);
    }
    if (filter.orgId !== undefined) {
      add(
        (p) => `(a.zone_id IN (SELECT id FROM lims_zone WHERE organization_id = ${p})
          OR (a.zone_id IS NULL AND a.camera_id IN (SELECT lc.id FROM lims_camera lc JOIN lims_zone lz ON lz.id = lc.zone_id WHERE lz.organization_id = ${p})))`,
        filter.orgId,
      );
    }
    const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const m = this.manager(tx);
    const [{ n }] = (await m.query(`SELECT count(*)::int AS n FROM lims_alert a ${whereSql}`, params)) as { n: number }[];
    const rows = (await m.query(
      `SELECT ${COLUMNS} ${FROM} ${whereSql} ORDER BY a.created_at DESC, a.id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, page.limit, page.offset],
    )) as AlertRow[];
    return { items: rows.map(toAlert), total: n };
  }

  /** `forUpdate` (inside a transaction) locks the row until commit: a change and its event agree on the before-state. */
  async findById(id: number, tx?: Tx, opts: { forUpdate?: boolean } = {}): Promise<Alert | null> {
    const lock = opts.forUpdate ? ' FOR UPDATE OF a' : '';
    const rows = (await this.manager(tx).query(`SELECT ${COLUMNS} ${FROM} WHERE a.id = $1${lock}`, [id])) as AlertRow[];
    return rows.length ? toAlert(rows[0]) : null;
  }

  /**
   * 409 comes from the partial unique index itself, so two concurrent creates cannot both win;
   * a zone or camera deleted after the caller's checks answers what `vanished` says for it.
   */
  async insert(values: NewAlert, vanished: VanishedParentErrors, tx?: Tx): Promise<Alert> {
    try {
      const rows = (await this.manager(tx).query(`${INSERT} ${RETURNING}`, [
        values.heading,
        values.subHeading,
        values.status,
        new Date(),
        values.zoneId,
        values.cameraId,
        null,
      ])) as AlertRow[];
      return toAlert(rows[0]);
    } catch (err) {
      throw await mapForeignKeyViolation(this.openAlertConflictOr(err), vanished);
    }
  }

  /**
   * Writes the fields given (and `updated_at`); matches no row when the alert is gone, which the
   * caller's read-back answers with 404. Reopening onto another open alert is a 409.
   */
  async update(id: number, patch: UpdateAlertInput, tx?: Tx): Promise<void> {
    try {
      await this.manager(tx).update(Alert, { id }, { ...definedOnly(patch), updatedAt: new Date() });
    } catch (err) {
      throw this.openAlertConflictOr(err);
    }
  }

  /** False when there was no such alert. */
  async delete(id: number, tx?: Tx): Promise<boolean> {
    const res = await this.manager(tx).createQueryBuilder().delete().from(Alert).where('id = :id', { id }).returning('id').execute();
    return (res.raw as unknown[]).length > 0;
  }

  /**
   * The race-free "one OPEN alert per (zone, camera)" claim (spec §5): INSERT … ON CONFLICT DO
   * NOTHING against lims_alert_one_open_uniq, else the open one gets this detection as its last
   * (and maybe peak) head count and its calm span restarts (C13). Never check-then-insert.
   */
  async claimOpen(values: Omit<NewAlert, 'status'> & { people: number }, vanished: VanishedParentErrors = {}, tx?: Tx): Promise<ClaimResult> {
    try {
      // Two tries: if the existing open alert is closed between our insert and our update, insert again.
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const inserted = await this.rows<AlertRow>(
          `${INSERT}
           ON CONFLICT (zone_id, (COALESCE(camera_id, 0))) WHERE status = 'OPEN' AND zone_id IS NOT NULL DO NOTHING
           ${RETURNING}`,
          [values.heading, values.subHeading, 'OPEN', new Date(), values.zoneId, values.cameraId, values.people],
          tx,
        );
        if (inserted.length) {
          return { alert: toAlert(inserted[0]), created: true };
        }
        const existing = await this.rows<AlertRow>(
          `UPDATE lims_alert SET last_people = $3, last_detected_at = now(), peak_people = greatest(COALESCE(peak_people, $3), $3),
             calm_since = NULL, calm_samples = 0
           WHERE zone_id = $1 AND COALESCE(camera_id, 0) = COALESCE($2::bigint, 0) AND status = 'OPEN'
           ${RETURNING}`,
          [values.zoneId, values.cameraId, values.people],
          tx,
        );
        if (existing.length) {
          return { alert: toAlert(existing[0]), created: false };
        }
      }
    } catch (err) {
      throw await mapForeignKeyViolation(err, vanished);
    }
    throw new Error(`could not claim or find an open alert for zone ${values.zoneId}, camera ${values.cameraId ?? 'none'}`);
  }

  /** An OPEN alert exists for (zone, camera) right now (a hint: the claim decides). */
  async hasOpen(zoneId: number, cameraId: number | null): Promise<boolean> {
    const rows = await this.rows<{ one: number }>(
      `SELECT 1 AS one FROM lims_alert WHERE zone_id = $1 AND COALESCE(camera_id, 0) = COALESCE($2::bigint, 0) AND status = 'OPEN' LIMIT 1`,
      [zoneId, cameraId],
    );
    return rows.length > 0;
  }

  /**
   * A reading below the DANGER threshold for (zone, camera) (C13): a `calm` one (below
   * ALERT_RESOLVE_RATIO × capacity) extends the open alert's calm span, one between that and DANGER
   * restarts it. Returns the open alert's id when the span now qualifies it for auto-resolve: at
   * least `afterMs` long and at least two readings; null otherwise (also when no alert is open).
   */
  async trackCalm(zoneId: number, cameraId: number | null, calm: boolean, afterMs: number, tx: Tx): Promise<number | null> {
    // now(): the transaction's start, the same instant the reading written with it is stamped
    const rows = await this.rows<{ id: number; due: boolean }>(
      `UPDATE lims_alert SET
         calm_since = CASE WHEN $3::boolean THEN COALESCE(calm_since, now()) ELSE NULL END,
         calm_samples = CASE WHEN $3::boolean THEN calm_samples + 1 ELSE 0 END
       WHERE zone_id = $1 AND COALESCE(camera_id, 0) = COALESCE($2::bigint, 0) AND status = 'OPEN'
       RETURNING id, ($3::boolean AND calm_samples >= 2 AND now() - calm_since >= $4::float8 * interval '1 millisecond') AS due`,
      [zoneId, cameraId, calm, afterMs],
      tx,
    );
    return rows.length && rows[0].due ? rows[0].id : null;
  }

  /**
   * Closes an OPEN alert (`manual` by `by`, or `auto` with `by` null) and returns it; null when
   * it is not open (any more). Lifecycle fields only: the caller writes the event.
   */
  async resolve(id: number, resolution: AlertResolution, by: number | null, tx: Tx): Promise<Alert | null> {
    const rows = await this.rows<AlertRow>(
      `UPDATE lims_alert SET status = 'CLOSED', resolution = $2, resolved_by = $3, resolved_at = now(), updated_at = now(),
         calm_since = NULL, calm_samples = 0
       WHERE id = $1 AND status = 'OPEN' ${RETURNING}`,
      [id, resolution, by],
      tx,
    );
    return rows.length ? toAlert(rows[0]) : null;
  }

  /** After a manual close through PUT/PATCH (the status itself was written by `update`). */
  async markManuallyResolved(id: number, by: number, tx: Tx): Promise<void> {
    await this.rows(`UPDATE lims_alert SET resolution = 'manual', resolved_by = $2, resolved_at = now(), calm_since = NULL, calm_samples = 0 WHERE id = $1`, [id, by], tx);
  }

  /** After a reopen: no resolution, and reminders and the calm span start over from now. */
  async markReopened(id: number, tx: Tx): Promise<void> {
    await this.rows(
      `UPDATE lims_alert SET resolution = NULL, resolved_by = NULL, resolved_at = NULL, remind_from = now(), reminders_sent = 0,
         calm_since = NULL, calm_samples = 0 WHERE id = $1`,
      [id],
      tx,
    );
  }

  /**
   * The first acknowledgement of an OPEN alert: the alert, or null when it is already
   * acknowledged, closed or gone (the caller reads it to tell which).
   */
  async acknowledge(id: number, by: number, tx: Tx): Promise<Alert | null> {
    const rows = await this.rows<AlertRow>(
      `UPDATE lims_alert SET acknowledged_at = now(), acknowledged_by = $2, updated_at = now()
       WHERE id = $1 AND status = 'OPEN' AND acknowledged_at IS NULL ${RETURNING}`,
      [id, by],
      tx,
    );
    return rows.length ? toAlert(rows[0]) : null;
  }

  /**
   * Claims the reminders now due (ALERTING.md §5): for each OPEN, unacknowledged alert whose next
   * reminder is due, advances `reminders_sent` to the number due by now (at most `max`) and returns
   * the alert with the reminder numbers it owes. The row update is the claim: rows another
   * instance is claiming are skipped, and one it has just advanced is no longer due, so every
   * reminder number is claimed exactly once across instances.
   */
  async claimDueReminders(everyMs: number, max: number, batch: number, tx: Tx): Promise<{ alert: Alert; from: number; to: number }[]> {
    const rows = await this.rows<AlertRow & { reminder_from: number; reminder_to: number }>(
      `WITH due AS (
         SELECT id AS due_id, reminders_sent AS sent,
           least($2::int, floor(extract(epoch FROM now() - remind_from) * 1000 / $1::float8))::int AS upto
         FROM lims_alert
         WHERE status = 'OPEN' AND acknowledged_at IS NULL AND reminders_sent < $2
           AND remind_from + (reminders_sent + 1) * $1::float8 * interval '1 millisecond' <= now()
         ORDER BY id LIMIT $3
         FOR UPDATE SKIP LOCKED)
       UPDATE lims_alert SET reminders_sent = due.upto FROM due
       WHERE lims_alert.id = due.due_id AND due.upto > due.sent
       ${RETURNING}, due.sent + 1 AS reminder_from, due.upto AS reminder_to`,
      [everyMs, max, batch],
      tx,
    );
    return rows.map((r) => ({ alert: toAlert(r), from: Number(r.reminder_from), to: Number(r.reminder_to) }));
  }

  private openAlertConflictOr(err: unknown): unknown {
    return uniqueViolation(err) === OPEN_ALERT_INDEX ? new OpenAlertExistsError() : err;
  }
}
