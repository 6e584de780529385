import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { ConflictError, type DomainError, NotFoundError, PermissionDeniedError, ValidationError } from '../common/errors';
import type { Page, Schema } from '../common/validation';
import { validateBody } from '../common/validation';
import { validateWithRefs } from '../common/body-validation';
import { Camera } from '../sites/camera.entity';
import { SiteGraph } from '../sites/site-graph';
import { definedOnly, isoTimestamp, mapForeignKeyViolation, uniqueViolation, type ListResult } from '../common/wire';
import { Alert, ALERT_STATUSES, type AlertStatus } from './alert.entity';
import type { AlertDto } from './dto/alert.dto';

const OPEN_ALERT_INDEX = 'lims_alert_one_open_uniq';
const OPEN_ALERT_EXISTS = 'An open alert already exists for this zone and camera.';
const TEXT_MAX = Number.MAX_SAFE_INTEGER;

const ALERT_FIELDS = {
  heading: { kind: 'string', max: 255, required: true },
  sub_heading: { kind: 'string', max: TEXT_MAX, nullable: true, allowBlank: true },
  status: { kind: 'choice', choices: ALERT_STATUSES, default: 'OPEN' },
  zone_id: { kind: 'pk', required: true },
  camera_id: { kind: 'pk', nullable: true },
} satisfies Schema;

const ALERT_UPDATE_FIELDS = {
  heading: ALERT_FIELDS.heading,
  sub_heading: ALERT_FIELDS.sub_heading,
  status: { kind: 'choice', choices: ALERT_STATUSES },
} satisfies Schema;

export interface AlertFilter {
  status?: AlertStatus;
  orgId?: number;
  zoneId?: number;
}

export interface Actor {
  isAdmin: boolean;
}

/** int8 columns arrive as numbers (PGlite, and pg's INT8 parser in data-source-options.ts) */
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

// Legacy rows (zone_id NULL) show, and are filtered by, their camera's zone.
const FROM = `FROM lims_alert a
  LEFT JOIN lims_camera c ON a.zone_id IS NULL AND c.id = a.camera_id`;
const COLUMNS = `a.id, a.heading, a.sub_heading, a.status, a.created_at, a.updated_at,
  COALESCE(a.zone_id, c.zone_id) AS zone_id, a.camera_id`;

function present(r: AlertRow): AlertDto {
  return {
    id: r.id,
    heading: r.heading,
    sub_heading: r.sub_heading,
    status: r.status,
    created_at: isoTimestamp(r.created_at),
    updated_at: isoTimestamp(r.updated_at),
    zone_id: r.zone_id,
    camera_id: r.camera_id,
  };
}

/** Whether a client-sent value would change the stored text (sending it back unchanged is no change). */
function changes(raw: unknown, current: string | null): boolean {
  if (raw === undefined) {
    return false;
  }
  if (raw === null) {
    return current !== null;
  }
  return typeof raw !== 'string' || (raw !== current && raw.trim() !== current);
}

@Injectable()
export class AlertsService {
  constructor(
    private readonly ds: DataSource,
    @InjectRepository(Alert) private readonly alerts: Repository<Alert>,
    @InjectRepository(Camera) private readonly cameras: Repository<Camera>,
    private readonly graph: SiteGraph,
  ) {}

  /** Newest first; `zoneId`/`orgId` match the exposed zone (legacy rows: their camera's). */
  async list(page: Page, filter: AlertFilter): Promise<ListResult<AlertDto>> {
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
    const [{ n }] = (await this.ds.query(`SELECT count(*)::int AS n FROM lims_alert a ${whereSql}`, params)) as { n: number }[];
    const rows = (await this.ds.query(
      `SELECT ${COLUMNS} ${FROM} ${whereSql} ORDER BY a.created_at DESC, a.id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, page.limit, page.offset],
    )) as AlertRow[];
    return { items: rows.map(present), total: n };
  }

  async get(id: number): Promise<AlertDto> {
    const rows = (await this.ds.query(`SELECT ${COLUMNS} ${FROM} WHERE a.id = $1`, [id])) as AlertRow[];
    if (!rows.length) {
      throw new NotFoundError('Alert');
    }
    return present(rows[0]);
  }

  /** 409 comes from the partial unique index itself, so two concurrent creates cannot both win. */
  async create(body: unknown): Promise<AlertDto> {
    const v = await validateWithRefs(
      body,
      ALERT_FIELDS,
      { partial: false },
      { zone_id: (id) => this.graph.zoneExists(id), camera_id: (id) => this.cameras.existsBy({ id }) },
    );
    const zoneId = v.zone_id!;
    const cameraId = v.camera_id ?? null;
    if (cameraId !== null) {
      const camera = await this.cameras.findOneBy({ id: cameraId });
      if (!camera) {
        // deleted since the existence check
        throw (await this.vanishedRefs(body, zoneId, cameraId)) ?? ValidationError.invalidPk('camera_id', (body as Record<string, unknown>).camera_id);
      }
      if (camera.zoneId !== zoneId) {
        throw ValidationError.field('camera_id', 'Camera does not belong to this zone.');
      }
    }
    const now = new Date();
    let id: number;
    try {
      const saved = await this.alerts.save(
        this.alerts.create({
          heading: v.heading,
          subHeading: v.sub_heading ?? null,
          status: (v.status ?? 'OPEN') as AlertStatus,
          zoneId,
          cameraId,
          createdAt: now,
          updatedAt: now,
        }),
      );
      id = saved.id;
    } catch (err) {
      // a zone or camera deleted after the checks above: the same 400 as had it gone before
      const gone = (column: 'zone_id' | 'camera_id') => async (): Promise<DomainError> =>
        (await this.vanishedRefs(body, zoneId, cameraId)) ?? ValidationError.invalidPk(column, (body as Record<string, unknown>)[column]);
      throw this.conflictOr(await mapForeignKeyViolation(err, { zone_id: gone('zone_id'), camera_id: gone('camera_id') }));
    }
    try {
      return await this.get(id);
    } catch (err) {
      // inserted, then taken by its zone's or camera's cascade before we read it back
      throw err instanceof NotFoundError ? ((await this.vanishedRefs(body, zoneId, cameraId)) ?? err) : err;
    }
  }

  /**
   * PUT and PATCH alike. Anyone may change `status`; changing `heading`/`sub_heading` needs ADMIN.
   * `zone_id`/`camera_id` are ignored. Reopening onto an existing open alert is a 409.
   */
  async update(id: number, body: unknown, actor: Actor): Promise<AlertDto> {
    const current = await this.alerts.findOneBy({ id });
    if (!current) {
      throw new NotFoundError('Alert');
    }
    if (!actor.isAdmin && body !== null && typeof body === 'object' && !Array.isArray(body)) {
      const input = body as Record<string, unknown>;
      if (changes(input.heading, current.heading) || changes(input.sub_heading, current.subHeading)) {
        throw new PermissionDeniedError();
      }
    }
    const v = validateBody(body, ALERT_UPDATE_FIELDS, { partial: true });
    try {
      await this.alerts.update(
        { id },
        definedOnly({ heading: v.heading, subHeading: v.sub_heading, status: v.status as AlertStatus | undefined, updatedAt: new Date() }),
      );
    } catch (err) {
      throw this.conflictOr(err);
    }
    return this.get(id);
  }

  async remove(id: number): Promise<void> {
    const res = await this.alerts.createQueryBuilder().delete().from(Alert).where('id = :id', { id }).returning('id').execute();
    if (!(res.raw as unknown[]).length) {
      throw new NotFoundError('Alert');
    }
  }

  /**
   * `Invalid pk` for every referenced row that no longer exists, as validateWithRefs reports them
   * (deleting a zone takes its cameras, so both fields may fail); null when both still exist.
   */
  private async vanishedRefs(body: unknown, zoneId: number, cameraId: number | null): Promise<ValidationError | null> {
    const input = body as Record<string, unknown>;
    const fields: Record<string, string[]> = {};
    if (!(await this.graph.zoneExists(zoneId))) {
      fields.zone_id = [ValidationError.invalidPkMessage(input.zone_id)];
    }
    if (cameraId !== null && !(await this.cameras.existsBy({ id: cameraId }))) {
      fields.camera_id = [ValidationError.invalidPkMessage(input.camera_id)];
    }
    return Object.keys(fields).length ? new ValidationError(fields) : null;
  }

  private conflictOr(err: unknown): unknown {
    const constraint = uniqueViolation(err);
    return constraint === OPEN_ALERT_INDEX ? new ConflictError(OPEN_ALERT_EXISTS) : err;
  }
}
