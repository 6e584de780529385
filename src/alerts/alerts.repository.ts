import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Page } from '../common/validation';
import { definedOnly, mapForeignKeyViolation, uniqueViolation, type ListResult, type VanishedParentErrors } from '../common/wire';
import { BaseRepository, type Tx } from '../database/unit-of-work';
import { Alert, type AlertStatus } from './alert.entity';
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
}

function toAlert(r: AlertRow): Alert {
  return Object.assign(new Alert(), {
    id: r.id,
    cameraId: r.camera_id,
    zoneId: r.zone_id,
    heading: r.heading,
    subHeading: r.sub_heading,
    status: r.status,
    createdAt: r.created_at instanceof Date ? r.created_at : new Date(r.created_at),
    updatedAt: r.updated_at instanceof Date ? r.updated_at : new Date(r.updated_at),
  });
}

// Reads show legacy rows (zone_id NULL, adopted from Django) with their camera's zone.
const FROM = `FROM lims_alert a
  LEFT JOIN lims_camera c ON a.zone_id IS NULL AND c.id = a.camera_id`;
const COLUMNS = `a.id, a.heading, a.sub_heading, a.status, a.created_at, a.updated_at,
  COALESCE(a.zone_id, c.zone_id) AS zone_id, a.camera_id`;
const RETURNING = 'RETURNING id, heading, sub_heading, status, created_at, updated_at, zone_id, camera_id';
const INSERT = `INSERT INTO lims_alert (heading, sub_heading, status, created_at, updated_at, zone_id, camera_id)
  VALUES ($1, $2, $3, $4, $4, $5, $6)`;

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
   * NOTHING against lims_alert_one_open_uniq, then read the winner. Never check-then-insert.
   */
  async claimOpen(values: Omit<NewAlert, 'status'>, vanished: VanishedParentErrors = {}, tx?: Tx): Promise<ClaimResult> {
    const m = this.manager(tx);
    try {
      // Two tries: if the existing open alert is closed between our insert and our read, insert again.
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const inserted = (await m.query(
          `${INSERT}
           ON CONFLICT (zone_id, (COALESCE(camera_id, 0))) WHERE status = 'OPEN' AND zone_id IS NOT NULL DO NOTHING
           ${RETURNING}`,
          [values.heading, values.subHeading, 'OPEN', new Date(), values.zoneId, values.cameraId],
        )) as AlertRow[];
        if (inserted.length) {
          return { alert: toAlert(inserted[0]), created: true };
        }
        const existing = (await m.query(
          `SELECT ${COLUMNS} ${FROM} WHERE a.zone_id = $1 AND COALESCE(a.camera_id, 0) = COALESCE($2::bigint, 0) AND a.status = 'OPEN' LIMIT 1`,
          [values.zoneId, values.cameraId],
        )) as AlertRow[];
        if (existing.length) {
          return { alert: toAlert(existing[0]), created: false };
        }
      }
    } catch (err) {
      throw await mapForeignKeyViolation(err, vanished);
    }
    throw new Error(`could not claim or find an open alert for zone ${values.zoneId}, camera ${values.cameraId ?? 'none'}`);
  }

  private openAlertConflictOr(err: unknown): unknown {
    return uniqueViolation(err) === OPEN_ALERT_INDEX ? new OpenAlertExistsError() : err;
  }
}
