import { collectErrors } from '../../common/body-validation';
import { ValidationError } from '../../common/errors';

export const BUCKETS = ['1m', '5m', '15m', '1h', '1d'] as const;
export type Bucket = (typeof BUCKETS)[number];

export const BUCKET_SECONDS: Record<Bucket, number> = { '1m': 60, '5m': 300, '15m': 900, '1h': 3600, '1d': 86400 };
/** At most this many buckets in the asked range (ALERTING.md §6). */
export const MAX_POINTS = 2000;
export const DEFAULT_RANGE_MS = 24 * 3600000;
export const TOO_MANY_POINTS = 'Too many points; use a larger bucket.';

const DATETIME_FORMAT_ERROR = 'Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].';
// Django's parse_datetime: date, `T` or space, time with optional seconds and fraction, optional offset (none = UTC)
const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

export interface HistoryQuery {
  bucket: Bucket;
  from: Date;
  to: Date;
}

function last(v: unknown): string | undefined {
  if (v === undefined) {
    return undefined;
  }
  return String(Array.isArray(v) ? v[v.length - 1] : v);
}

/** An ISO-8601 timestamp; undefined when absent or empty. A `+` that a query string turned into a space is read back as `+`. */
export function parseTimestamp(raw: unknown, field: string): Date | undefined {
  let v = last(raw)?.trim();
  if (v === undefined || v === '') {
    return undefined;
  }
  v = v.replace(/ (\d{2}(?::?\d{2})?)$/, '+$1');
  const m = DATETIME_RE.exec(v);
  if (!m) {
    throw ValidationError.field(field, DATETIME_FORMAT_ERROR);
  }
  const [, y, mo, d, h, mi, s = '0', frac = '', tz = 'Z'] = m;
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  const check = new Date(local);
  // Date.UTC rolls 2026-02-30 over into March: a real date has the same fields back
  if (
    check.getUTCFullYear() !== Number(y) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) ||
    check.getUTCHours() !== Number(h) ||
    check.getUTCMinutes() !== Number(mi) ||
    check.getUTCSeconds() !== Number(s)
  ) {
    throw ValidationError.field(field, DATETIME_FORMAT_ERROR);
  }
  let offsetMin = 0;
  if (tz.toUpperCase() !== 'Z') {
    const om = /^([+-])(\d{2}):?(\d{2})?$/.exec(tz)!;
    const hours = Number(om[2]);
    const minutes = Number(om[3] ?? '0');
    if (hours > 23 || minutes > 59) {
      throw ValidationError.field(field, DATETIME_FORMAT_ERROR);
    }
    offsetMin = (om[1] === '-' ? -1 : 1) * (hours * 60 + minutes);
  }
  return new Date(local - offsetMin * 60000);
}

function parseBucket(raw: unknown): Bucket {
  const v = last(raw);
  if (v === undefined || v.trim() === '') {
    return '5m';
  }
  if (!(BUCKETS as readonly string[]).includes(v)) {
    throw ValidationError.field('bucket', `"${v.slice(0, 100)}" is not a valid choice.`);
  }
  return v as Bucket;
}

/** Buckets of `seconds` (epoch-aligned) that [from, to) touches. */
export function bucketCount(from: Date, to: Date, seconds: number): number {
  const size = seconds * 1000;
  return Math.floor((to.getTime() - 1) / size) - Math.floor(from.getTime() / size) + 1;
}

/**
 * `GET /zones/{id}/occupancy/`: bucket (default 5m), to (default now), from (default to − 24 h);
 * all format errors at once, then from < to, then the 2000-point bound.
 */
export function parseHistoryQuery(query: Record<string, unknown>, now: Date): HistoryQuery {
  const [bucket, fromIn, toIn] = collectErrors(
    () => parseBucket(query.bucket),
    () => parseTimestamp(query.from, 'from'),
    () => parseTimestamp(query.to, 'to'),
  );
  const to = toIn ?? now;
  const from = fromIn ?? new Date(to.getTime() - DEFAULT_RANGE_MS);
  if (from.getTime() >= to.getTime()) {
    throw ValidationError.field('from', 'Must be earlier than to.');
  }
  if (bucketCount(from, to, BUCKET_SECONDS[bucket]) > MAX_POINTS) {
    throw ValidationError.field('bucket', TOO_MANY_POINTS);
  }
  return { bucket, from, to };
}
