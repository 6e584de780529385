import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Page } from '../common/validation';
import { mapForeignKeyViolation, type ListResult } from '../common/wire';
import { BaseRepository, type Tx } from '../database/unit-of-work';
import { ValidationError } from '../common/errors';

/** A subscription of ALERTING.md §2 (`ecoflow_webhook`). */
export interface Webhook {
  id: number;
  url: string;
  /** subscribable event types, or `['*']` */
  eventTypes: string[];
  organizationId: number | null;
  description: string;
  isActive: boolean;
  disabledReason: string | null;
  secret: string;
  /** the secret before the last rotation, still signing until `previousSecretExpiresAt` */
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export type NewWebhook = Omit<Webhook, 'id'>;
export type WebhookPatch = Partial<Pick<Webhook, 'url' | 'eventTypes' | 'organizationId' | 'description' | 'isActive' | 'disabledReason' | 'updatedAt'>>;

interface WebhookRow {
  id: number | string;
  url: string;
  event_types: string[] | string;
  organization_id: number | string | null;
  description: string;
  is_active: boolean;
  disabled_reason: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

const num = (v: number | string): number => Number(v);
const date = (v: Date | string): Date => (v instanceof Date ? v : new Date(v));

/** text[] arrives parsed from pg; a driver that returns the literal (`{a,b}`) is read too. */
function textArray(v: string[] | string): string[] {
  if (Array.isArray(v)) {
    return v;
  }
  const inner = v.replace(/^\{|\}$/g, '');
  return inner ? inner.split(',').map((s) => s.replace(/^"|"$/g, '')) : [];
}

function toWebhook(r: WebhookRow): Webhook {
  return {
    id: num(r.id),
    url: r.url,
    eventTypes: textArray(r.event_types),
    organizationId: r.organization_id === null ? null : num(r.organization_id),
    description: r.description,
    isActive: r.is_active,
    disabledReason: r.disabled_reason,
    secret: r.secret,
    previousSecret: r.previous_secret,
    previousSecretExpiresAt: r.previous_secret_expires_at === null ? null : date(r.previous_secret_expires_at),
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  };
}

const COLUMNS = `id, url, event_types, organization_id, description, is_active, disabled_reason, secret, previous_secret,
  previous_secret_expires_at, created_at, updated_at`;

/** An organization deleted between the existence check and the write answers like an unknown one. */
const vanishedOrganization = (id: number | null) => ({
  organization_id: () => ValidationError.invalidPk('organization_id', id),
});

/** Every query of `ecoflow_webhook`. Deliveries to a deleted webhook go with it (ON DELETE CASCADE). */
@Injectable()
export class WebhooksRepository extends BaseRepository {
  constructor(ds: DataSource) {
    super(ds);
  }

  /** Newest first; the id breaks ties so pages never overlap. */
  async findPage(page: Page): Promise<ListResult<Webhook>> {
    const [{ n }] = await this.rows<{ n: number }>(`SELECT count(*)::int AS n FROM ecoflow_webhook`, []);
    const rows = await this.rows<WebhookRow>(`SELECT ${COLUMNS} FROM ecoflow_webhook ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2`, [page.limit, page.offset]);
    return { items: rows.map(toWebhook), total: n };
  }

  async findById(id: number, tx?: Tx): Promise<Webhook | null> {
    const rows = await this.rows<WebhookRow>(`SELECT ${COLUMNS} FROM ecoflow_webhook WHERE id = $1`, [id], tx);
    return rows.length ? toWebhook(rows[0]) : null;
  }

  async exists(id: number): Promise<boolean> {
    const rows = await this.rows(`SELECT 1 FROM ecoflow_webhook WHERE id = $1`, [id]);
    return rows.length > 0;
  }

  async insert(w: NewWebhook): Promise<Webhook> {
    try {
      const rows = await this.rows<WebhookRow>(
        `INSERT INTO ecoflow_webhook (url, event_types, organization_id, description, is_active, disabled_reason, secret, previous_secret,
           previous_secret_expires_at, created_at, updated_at)
         VALUES ($1, $2::text[], $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ${COLUMNS}`,
        [w.url, w.eventTypes, w.organizationId, w.description, w.isActive, w.disabledReason, w.secret, w.previousSecret, w.previousSecretExpiresAt, w.createdAt, w.updatedAt],
      );
      return toWebhook(rows[0]);
    } catch (err) {
      throw await mapForeignKeyViolation(err, vanishedOrganization(w.organizationId));
    }
  }

  /** The webhook after the update, or null when it is gone. */
  async update(id: number, patch: WebhookPatch): Promise<Webhook | null> {
    const columns: Record<keyof WebhookPatch, string> = {
      url: 'url',
      eventTypes: 'event_types',
      organizationId: 'organization_id',
      description: 'description',
      isActive: 'is_active',
      disabledReason: 'disabled_reason',
      updatedAt: 'updated_at',
    };
    const sets: string[] = [];
    const params: unknown[] = [id];
    for (const [key, value] of Object.entries(patch) as [keyof WebhookPatch, unknown][]) {
      if (value === undefined) {
        continue;
      }
      params.push(value);
      sets.push(`${columns[key]} = $${params.length}${key === 'eventTypes' ? '::text[]' : ''}`);
    }
    if (!sets.length) {
      return this.findById(id);
    }
    try {
      const rows = await this.rows<WebhookRow>(`UPDATE ecoflow_webhook SET ${sets.join(', ')} WHERE id = $1 RETURNING ${COLUMNS}`, params);
      return rows.length ? toWebhook(rows[0]) : null;
    } catch (err) {
      throw await mapForeignKeyViolation(err, vanishedOrganization(patch.organizationId ?? null));
    }
  }

  /** The current secret becomes the previous one, signing alongside the new one until `previousExpiresAt`. */
  async rotateSecret(id: number, secret: string, previousExpiresAt: Date, now: Date): Promise<boolean> {
    const rows = await this.rows(
      `UPDATE ecoflow_webhook SET previous_secret = secret, previous_secret_expires_at = $3, secret = $2, updated_at = $4 WHERE id = $1 RETURNING id`,
      [id, secret, previousExpiresAt, now],
    );
    return rows.length > 0;
  }

  /** Disables an active webhook with a reason (410, failing for days); false when it was not active. */
  async disable(id: number, reason: string): Promise<boolean> {
    const rows = await this.rows(
      `UPDATE ecoflow_webhook SET is_active = false, disabled_reason = $2, updated_at = now() WHERE id = $1 AND is_active RETURNING id`,
      [id, reason],
    );
    return rows.length > 0;
  }

  /** False when there was no such webhook; its deliveries, pending ones included, go with it. */
  async delete(id: number): Promise<boolean> {
    const rows = await this.rows(`DELETE FROM ecoflow_webhook WHERE id = $1 RETURNING id`, [id]);
    return rows.length > 0;
  }
}
