import type { DomainError } from './errors';

/** A page of results plus the number of matches before paging (sent as X-Total-Count). */
export interface ListResult<T> {
  items: T[];
  total: number;
}

/** `YYYY-MM-DDTHH:MM:SS.sssZ` (C11); raw queries may hand back strings. */
export function isoTimestamp(v: Date | string): string {
  return (v instanceof Date ? v : new Date(v)).toISOString();
}

/** Names the `lims_alert_one_open_uniq`-style constraint a unique violation (23505) hit, if any. */
export function uniqueViolation(err: unknown): string | null {
  const e = err as { code?: unknown; constraint?: unknown; driverError?: { code?: unknown; constraint?: unknown } } | null;
  const d = e?.driverError ?? e;
  if (d?.code !== '23505') {
    return null;
  }
  return typeof d.constraint === 'string' ? d.constraint : '';
}

interface PgErrorLike {
  code?: unknown;
  constraint?: unknown;
  detail?: unknown;
  table?: unknown;
}

/**
 * The referencing column of a foreign-key violation (23503) raised by an INSERT or UPDATE, e.g.
 * `organization_id`; null for any other error. With our constraints (`<table>_<column>_fk`, all
 * ON DELETE CASCADE) this only happens when the parent row was deleted after the existence check.
 */
export function foreignKeyViolation(err: unknown): string | null {
  const e = err as (PgErrorLike & { driverError?: PgErrorLike }) | null;
  const d = e?.driverError ?? e;
  if (d?.code !== '23503') {
    return null;
  }
  // `Key (zone_id)=(7) is not present in table "lims_zone".`; a delete blocked by a reference
  // ("is still referenced from") is not a vanished parent
  const detail = typeof d.detail === 'string' ? d.detail : '';
  if (/is still referenced from/.test(detail)) {
    return null;
  }
  const column = /^Key \(([a-z_][a-z0-9_]*)\)=/.exec(detail)?.[1];
  if (column) {
    return column;
  }
  const constraint = typeof d.constraint === 'string' ? d.constraint : '';
  const table = typeof d.table === 'string' ? d.table : '';
  return table && constraint.startsWith(`${table}_`) && constraint.endsWith('_fk') ? constraint.slice(table.length + 1, -'_fk'.length) : '';
}

/** Per referencing column, the domain error a route answers when that parent is gone. */
export type VanishedParentErrors = Partial<Record<string, () => DomainError | Promise<DomainError>>>;

/**
 * The one translation of foreign-key violations (next to the unique-violation one above): a
 * write that lost a race with the delete of the row it points to becomes the route's own answer
 * for a missing parent (400 `Invalid pk`, or the sensor's 404), never a 500. Any other error, or
 * a column the caller did not list, comes back unchanged.
 */
export async function mapForeignKeyViolation(err: unknown, byColumn: VanishedParentErrors): Promise<unknown> {
  const column = foreignKeyViolation(err);
  const toError = column === null ? undefined : byColumn[column];
  return toError ? await toError() : err;
}

/** Drops undefined keys so a partial update only writes the fields the client sent. */
export function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}
