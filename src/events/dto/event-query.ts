import { ValidationError } from '../../common/errors';
import { collectErrors } from '../../common/body-validation';
import { parseOptionalIdQuery, toInteger } from '../../common/validation';
import { SUBSCRIBABLE_EVENT_TYPES } from '../event-types';

type Query = Record<string, unknown>;

function last(v: unknown): string | undefined {
  if (v === undefined) {
    return undefined;
  }
  return String(Array.isArray(v) ? v[v.length - 1] : v);
}

/** `?after=`: an event id, 0 (the default) for the start of the log. */
export function parseAfter(raw: unknown, field = 'after'): number {
  const v = last(raw)?.trim();
  if (v === undefined || v === '') {
    return 0;
  }
  const n = /^\d{1,19}$/.test(v) ? toInteger(v) : null;
  if (n === null || n < 0) {
    throw ValidationError.field(field, 'A valid integer is required.');
  }
  return Number.isSafeInteger(n) ? n : Number.MAX_SAFE_INTEGER;
}

/** `?types=a,b`: each one of `allowed`; absent or empty = all. */
export function parseTypes(raw: unknown, allowed: readonly string[] = SUBSCRIBABLE_EVENT_TYPES): string[] | undefined {
  const v = last(raw)?.trim();
  if (v === undefined || v === '') {
    return undefined;
  }
  const types = [...new Set(v.split(',').map((t) => t.trim()).filter(Boolean))];
  const bad = types.find((t) => !allowed.includes(t));
  if (bad !== undefined) {
    throw ValidationError.field('types', `"${bad.slice(0, 100)}" is not a valid choice.`);
  }
  return types.length ? types : undefined;
}

export interface EventListQuery {
  after: number;
  types?: string[];
  orgId?: number;
  limit: number;
}

/** `GET /events/` (ALERTING.md §1): after, types, org_id, limit ≤ 500 (default 100), all errors at once. */
export function parseEventListQuery(query: Query): EventListQuery {
  const [after, types, orgId, limit] = collectErrors(
    () => parseAfter(query.after),
    () => parseTypes(query.types),
    () => parseOptionalIdQuery(query, 'org_id'),
    () => parseLimit(query.limit),
  );
  return { after, types, orgId, limit };
}

function parseLimit(raw: unknown): number {
  const v = last(raw)?.trim();
  if (v === undefined || v === '') {
    return 100;
  }
  const n = toInteger(v);
  if (n === null) {
    throw ValidationError.field('limit', 'A valid integer is required.');
  }
  if (n < 1) {
    throw ValidationError.field('limit', 'Ensure this value is greater than or equal to 1.');
  }
  return Math.min(n, 500);
}
