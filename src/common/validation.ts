import { ValidationError } from './errors';

/**
 * Request-body validation with Django REST framework's wording (spec §2.1). Every failing
 * field is reported at once; unknown and read-only keys are ignored.
 */
export type FieldSpec =
  | { kind: 'string'; max: number; required?: boolean; allowBlank?: boolean; nullable?: boolean; default?: string }
  | { kind: 'int'; min?: number; max?: number; required?: boolean; nullable?: boolean; default?: number }
  | { kind: 'decimal'; required?: boolean; nullable?: boolean }
  | { kind: 'bool'; required?: boolean; default?: boolean }
  | { kind: 'choice'; choices: readonly string[]; required?: boolean; default?: string }
  | { kind: 'email'; max: number; required?: boolean }
  | { kind: 'password'; min: number; max: number; required?: boolean }
  | { kind: 'pk'; required?: boolean; nullable?: boolean };

export type Schema = Record<string, FieldSpec>;

type Out<S extends FieldSpec> = S extends { kind: 'int' } | { kind: 'pk' }
  ? number
  : S extends { kind: 'bool' }
    ? boolean
    : string;
type Nullable<S extends FieldSpec> = S extends { nullable: true } ? null : never;
export type Parsed<T extends Schema> = { [K in keyof T]?: Out<T[K]> | Nullable<T[K]> };

export const INT32_MAX = 2147483647;
const INT64_MAX = 9223372036854775807n;
/** A syntactically valid id that cannot exist (beyond JavaScript's safe range); lookups answer 404. */
export const UNREACHABLE_ID = -1;

const TRUE_VALUES = new Set(['true', 'True', 'TRUE', '1', 'yes', 'Yes', 'YES', 'on', 'On', 'ON', 't', 'T', 'y', 'Y']);
const FALSE_VALUES = new Set(['false', 'False', 'FALSE', '0', 'no', 'No', 'NO', 'off', 'Off', 'OFF', 'f', 'F', 'n', 'N']);
// Django's EmailValidator, simplified: one @, a dotted domain, no spaces or control characters.
const EMAIL_RE = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

/** DRF's name for the JSON type of `v` in its messages (`str`, `int`, `list`, `dict`, …). */
export function typeName(v: unknown): string {
  if (typeof v === 'string') {
    return 'str';
  }
  if (typeof v === 'boolean') {
    return 'bool';
  }
  if (Array.isArray(v)) {
    return 'list';
  }
  if (v !== null && typeof v === 'object') {
    return 'dict';
  }
  if (typeof v === 'number') {
    return Number.isInteger(v) ? 'int' : 'float';
  }
  return 'str';
}

/** DRF IntegerField: ints, digit strings, and strings like "3.0"; nothing else. */
export function toInteger(v: unknown): number | null {
  if (typeof v === 'number') {
    return Number.isSafeInteger(v) ? v : null;
  }
  if (typeof v === 'string') {
    const m = /^\s*([+-]?\d+)(?:\.0*)?\s*$/.exec(v);
    if (!m || m[1].replace(/^[+-]/, '').length > 16) {
      return null;
    }
    const n = Number(m[1]);
    return Number.isSafeInteger(n) ? n : null;
  }
  return null;
}

/** Formats a numeric(9,6) value as the 6-decimal string the API returns. */
export function decimalString(v: string | number | null): string | null {
  if (v === null) {
    return null;
  }
  const s = typeof v === 'number' ? String(v) : v;
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m) {
    return s;
  }
  const whole = m[2] === '' ? '0' : m[2].replace(/^0+(?=\d)/, '');
  const frac = (m[3] ?? '').padEnd(6, '0').slice(0, 6);
  const neg = m[1] === '-' && /[1-9]/.test(whole + frac);
  return `${neg ? '-' : ''}${whole}.${frac}`;
}

function validateDecimal(v: unknown): { value?: string; errors?: string[] } {
  if (typeof v === 'boolean' || (typeof v !== 'string' && typeof v !== 'number')) {
    return { errors: ['A valid number is required.'] };
  }
  const s = String(v).trim();
  if (typeof v === 'number' && !Number.isFinite(v)) {
    return { errors: ['A valid number is required.'] };
  }
  // Scientific notation from JSON numbers (1e-7) is expanded the way Python's Decimal would count it.
  const expanded = /e/i.test(s) ? Number(s).toFixed(20).replace(/0+$/, '').replace(/\.$/, '') : s;
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(expanded);
  if (!m || (m[2] === '' && (m[3] ?? '') === '') || expanded.length > 1000) {
    return { errors: ['A valid number is required.'] };
  }
  const wholeDigits = m[2].replace(/^0+/, '');
  const fracDigits = m[3] ?? '';
  // Python's Decimal keeps trailing zeros: "1.5000000" has 7 places.
  const places = fracDigits.length;
  const sig = (wholeDigits + fracDigits).replace(/^0+/, '');
  const total = Math.max(sig.length, places);
  const whole = total - places;
  const errors: string[] = [];
  if (total > 9) {
    errors.push('Ensure that there are no more than 9 digits in total.');
  } else if (places > 6) {
    errors.push('Ensure that there are no more than 6 decimal places.');
  } else if (whole > 3) {
    errors.push('Ensure that there are no more than 3 digits before the decimal point.');
  }
  if (errors.length) {
    return { errors };
  }
  return { value: decimalString(`${m[1]}${wholeDigits || '0'}.${fracDigits}`)! };
}

function validateField(spec: FieldSpec, raw: unknown): { value?: unknown; errors?: string[] } {
  let v = raw;
  if (v === '' && 'nullable' in spec && spec.nullable && spec.kind !== 'string') {
    v = null; // form inputs send "" for "no value"
  }
  if (v === null) {
    return 'nullable' in spec && spec.nullable ? { value: null } : { errors: ['This field may not be null.'] };
  }
  switch (spec.kind) {
    case 'string':
    case 'email':
    case 'password': {
      if (typeof v === 'number' && Number.isFinite(v)) {
        v = String(v);
      }
      if (typeof v !== 'string') {
        return { errors: ['Not a valid string.'] };
      }
      const s = spec.kind === 'password' ? v : v.trim();
      if (s === '') {
        if (spec.kind === 'string' && spec.allowBlank) {
          return { value: '' };
        }
        return { errors: ['This field may not be blank.'] };
      }
      // PostgreSQL text cannot hold NUL; DRF's ProhibitNullCharactersValidator wording
      if (s.includes('\u0000')) {
        return { errors: ['Null characters are not allowed.'] };
      }
      if (spec.kind === 'password') {
        if ([...s].length < spec.min) {
          return { errors: [`This password is too short. It must contain at least ${spec.min} characters.`] };
        }
        if ([...s].length > spec.max) {
          return { errors: [`Ensure this field has no more than ${spec.max} characters.`] };
        }
        return { value: s };
      }
      if ([...s].length > spec.max) {
        return { errors: [`Ensure this field has no more than ${spec.max} characters.`] };
      }
      if (spec.kind === 'email') {
        const e = s.toLowerCase();
        return EMAIL_RE.test(e) ? { value: e } : { errors: ['Enter a valid email address.'] };
      }
      return { value: s };
    }
    case 'int': {
      if (typeof v === 'string' && v.length > 1000) {
        return { errors: ['String value too large.'] };
      }
      const n = toInteger(v);
      if (n === null) {
        return { errors: ['A valid integer is required.'] };
      }
      if (spec.min !== undefined && n < spec.min) {
        return { errors: [`Ensure this value is greater than or equal to ${spec.min}.`] };
      }
      if (spec.max !== undefined && n > spec.max) {
        return { errors: [`Ensure this value is less than or equal to ${spec.max}.`] };
      }
      return { value: n };
    }
    case 'decimal':
      return validateDecimal(v);
    case 'bool': {
      if (v === true || v === 1) {
        return { value: true };
      }
      if (v === false || v === 0) {
        return { value: false };
      }
      if (typeof v === 'string' && TRUE_VALUES.has(v.trim())) {
        return { value: true };
      }
      if (typeof v === 'string' && FALSE_VALUES.has(v.trim())) {
        return { value: false };
      }
      return { errors: ['Must be a valid boolean.'] };
    }
    case 'choice': {
      // never serialize untrusted structures (a deeply nested one overflows the stack): name their type
      const s = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : typeName(v);
      return spec.choices.includes(s) ? { value: s } : { errors: [`"${s}" is not a valid choice.`] };
    }
    case 'pk': {
      if (typeof v === 'number' && Number.isInteger(v)) {
        return { value: Number.isSafeInteger(v) && v > 0 ? v : UNREACHABLE_ID, errors: undefined };
      }
      if (typeof v === 'string' && /^\s*\d+\s*$/.test(v)) {
        const t = v.trim();
        const big = BigInt(t);
        return { value: big <= BigInt(Number.MAX_SAFE_INTEGER) && big > 0n ? Number(big) : UNREACHABLE_ID };
      }
      return { errors: [`Incorrect type. Expected pk value, received ${typeName(v)}.`] };
    }
    default:
      return { errors: ['Invalid value.'] };
  }
}

/**
 * Validates a request body against a schema. With `partial` (PUT and PATCH) nothing is required
 * and defaults are not applied. Throws ValidationError listing every failing field.
 */
export function validateBody<S extends Schema>(body: unknown, schema: S, opts: { partial: boolean }): Parsed<S> {
  const input = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  if (Array.isArray(body) || (body !== undefined && body !== null && typeof body !== 'object')) {
    throw ValidationError.field('non_field_errors', `Invalid data. Expected a dictionary, but got ${typeName(body)}.`);
  }
  const out: Record<string, unknown> = {};
  const errors: Record<string, string[]> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const present = Object.prototype.hasOwnProperty.call(input, key) && input[key] !== undefined;
    if (!present) {
      if (!opts.partial) {
        if (spec.required) {
          errors[key] = ['This field is required.'];
        } else if ('default' in spec && spec.default !== undefined) {
          out[key] = spec.default;
        }
      }
      continue;
    }
    const r = validateField(spec, input[key]);
    if (r.errors) {
      errors[key] = r.errors;
    } else {
      out[key] = r.value;
    }
  }
  if (Object.keys(errors).length) {
    throw new ValidationError(errors);
  }
  return out as Parsed<S>;
}

/** Path ids: `^[0-9]+$` within int64, else 400 `{"id":["A valid integer is required."]}`. */
export function parseId(raw: string | undefined, field = 'id'): number {
  const s = raw ?? '';
  if (!/^[0-9]{1,19}$/.test(s) || BigInt(s) > INT64_MAX) {
    throw ValidationError.field(field, 'A valid integer is required.');
  }
  const n = Number(s);
  return Number.isSafeInteger(n) && n > 0 ? n : UNREACHABLE_ID;
}

type Query = Record<string, unknown>;

function queryValue(query: Query, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) {
    return undefined;
  }
  if (Array.isArray(v)) {
    return String(v[v.length - 1]); // Django's QueryDict.get returns the last value
  }
  return typeof v === 'string' ? v : String(v);
}

/** Optional integer filter such as `?org_id=`; empty means absent. */
export function parseOptionalIdQuery(query: Query, name: string): number | undefined {
  const v = queryValue(query, name);
  if (v === undefined || v === '') {
    return undefined;
  }
  return parseId(v.trim(), name);
}

export interface Page {
  limit: number;
  offset: number;
}

/** `limit` (default 100, 1…, clamped to 500) and `offset` (default 0, ≥ 0), all errors at once. */
export function parsePage(query: Query, bounds: { defaultLimit: number; maxLimit: number } = { defaultLimit: 100, maxLimit: 500 }): Page {
  const errors: Record<string, string[]> = {};
  const read = (name: string, def: number, min: number): number => {
    const v = queryValue(query, name);
    if (v === undefined || v === '') {
      return def;
    }
    const n = toInteger(v);
    if (n === null) {
      errors[name] = ['A valid integer is required.'];
      return def;
    }
    if (n < min) {
      errors[name] = [`Ensure this value is greater than or equal to ${min}.`];
      return def;
    }
    return n;
  };
  const limit = Math.min(read('limit', bounds.defaultLimit, 1), bounds.maxLimit);
  const offset = read('offset', 0, 0);
  if (Object.keys(errors).length) {
    throw new ValidationError(errors);
  }
  return { limit, offset };
}

/** Validates an optional choice query parameter (`?status=OPEN`). */
export function parseChoiceQuery<T extends string>(query: Query, name: string, choices: readonly T[]): T | undefined {
  const v = queryValue(query, name);
  if (v === undefined || v === '') {
    return undefined;
  }
  if (!(choices as readonly string[]).includes(v)) {
    throw ValidationError.field(name, `"${v}" is not a valid choice.`);
  }
  return v as T;
}
