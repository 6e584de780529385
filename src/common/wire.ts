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

/** Drops undefined keys so a partial update only writes the fields the client sent. */
export function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}
