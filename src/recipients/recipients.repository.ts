import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ValidationError } from '../common/errors';
import type { Page } from '../common/validation';
import { mapForeignKeyViolation, type ListResult } from '../common/wire';
import { bigintId } from '../database/id.transformer';
import { BaseRepository, type Tx } from '../database/unit-of-work';
import type { SubscribableEventType } from '../events/event-types';
import type { Recipient } from './recipient';

export type NewRecipient = Omit<Recipient, 'id' | 'createdAt' | 'updatedAt'>;
export type RecipientPatch = Partial<NewRecipient>;

interface RecipientRow {
  id: number | string;
  phone: string;
  name: string;
  organization_id: number | string | null;
  event_types: string[] | string;
  is_active: boolean;
  created_at: Date | string;
  updated_at: Date | string;
}

const COLUMNS = 'id, phone, name, organization_id, event_types, is_active, created_at, updated_at';

/** `text[]` arrives as an array from pg, and may arrive as its literal (`{a,b}`) from other drivers. */
function textArray(v: string[] | string): string[] {
  if (Array.isArray(v)) {
    return v;
  }
  const inner = v.replace(/^\{|\}$/g, '');
  return inner === '' ? [] : inner.split(',').map((s) => s.replace(/^"|"$/g, ''));
}

function toRecipient(r: RecipientRow): Recipient {
  return {
    id: bigintId.from(r.id) as number,
    phone: r.phone,
    name: r.name,
    organizationId: (bigintId.from(r.organization_id) as number | null) ?? null,
    eventTypes: textArray(r.event_types) as SubscribableEventType[],
    isActive: r.is_active,
    createdAt: r.created_at instanceof Date ? r.created_at : new Date(r.created_at),
    updatedAt: r.updated_at instanceof Date ? r.updated_at : new Date(r.updated_at),
  };
}

/** Every query of `ecoflow_alert_recipient`. */
@Injectable()
export class RecipientsRepository extends BaseRepository {
  constructor(ds: DataSource) {
    super(ds);
  }

  /** Id ascending, optionally of one organization. */
  async findPage(page: Page, filter: { orgId?: number }): Promise<ListResult<Recipient>> {
    const where = filter.orgId === undefined ? '' : 'WHERE organization_id = $1';
    const params = filter.orgId === undefined ? [] : [filter.orgId];
    const [{ n }] = (await this.ds.query(`SELECT count(*)::int AS n FROM ecoflow_alert_recipient ${where}`, params)) as { n: number }[];
    const rows = (await this.ds.query(
      `SELECT ${COLUMNS} FROM ecoflow_alert_recipient ${where} ORDER BY id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, page.limit, page.offset],
    )) as RecipientRow[];
    return { items: rows.map(toRecipient), total: n };
  }

  async findById(id: number, tx?: Tx): Promise<Recipient | null> {
    const rows = await this.rows<RecipientRow>(`SELECT ${COLUMNS} FROM ecoflow_alert_recipient WHERE id = $1`, [id], tx);
    return rows.length ? toRecipient(rows[0]) : null;
  }

  async exists(id: number): Promise<boolean> {
    const rows = (await this.ds.query('SELECT 1 FROM ecoflow_alert_recipient WHERE id = $1', [id])) as unknown[];
    return rows.length > 0;
  }

  async organizationExists(id: number): Promise<boolean> {
    const rows = (await this.ds.query('SELECT 1 FROM lims_organization WHERE id = $1', [id])) as unknown[];
    return rows.length > 0;
  }

  /** An organization deleted after the caller's existence check answers 400 `Invalid pk`, not 500. */
  async insert(v: NewRecipient, now: Date): Promise<Recipient> {
    try {
      const rows = await this.rows<RecipientRow>(
        `INSERT INTO ecoflow_alert_recipient (phone, name, organization_id, event_types, is_active, created_at, updated_at)
         VALUES ($1, $2, $3, $4::text[], $5, $6, $6) RETURNING ${COLUMNS}`,
        [v.phone, v.name, v.organizationId, v.eventTypes, v.isActive, now],
      );
      return toRecipient(rows[0]);
    } catch (err) {
      throw await mapForeignKeyViolation(err, { organization_id: () => ValidationError.invalidPk('organization_id', v.organizationId) });
    }
  }

  /** The updated row, or null when it is gone. */
  async update(id: number, patch: RecipientPatch, now: Date): Promise<Recipient | null> {
    const columns: [string, unknown, string][] = [
      ['phone', patch.phone, ''],
      ['name', patch.name, ''],
      ['organization_id', patch.organizationId, ''],
      ['event_types', patch.eventTypes, '::text[]'],
      ['is_active', patch.isActive, ''],
      ['updated_at', now, ''],
    ];
    const params: unknown[] = [id];
    const sets: string[] = [];
    for (const [column, value, cast] of columns) {
      if (value !== undefined) {
        params.push(value);
        sets.push(`${column} = $${params.length}${cast}`);
      }
    }
    try {
      const rows = await this.rows<RecipientRow>(`UPDATE ecoflow_alert_recipient SET ${sets.join(', ')} WHERE id = $1 RETURNING ${COLUMNS}`, params);
      return rows.length ? toRecipient(rows[0]) : null;
    } catch (err) {
      throw await mapForeignKeyViolation(err, { organization_id: () => ValidationError.invalidPk('organization_id', patch.organizationId) });
    }
  }

  /** Its deliveries go with it (ON DELETE CASCADE). False when there was no such row. */
  async delete(id: number): Promise<boolean> {
    const rows = await this.rows('DELETE FROM ecoflow_alert_recipient WHERE id = $1 RETURNING id', [id]);
    return rows.length > 0;
  }
}
