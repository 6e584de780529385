/**
 * Domain errors. Services throw these (never Nest's HttpException); the one global
 * filter (`http-exception.filter.ts`) turns the code into the spec's status and body.
 */
export type ErrorCode =
  | 'validation_failed' // 400 {field:[messages]}
  | 'bad_request' // 400 {detail} or {error}
  | 'unauthenticated' // 401
  | 'forbidden' // 403
  | 'not_found' // 404
  | 'method_not_allowed' // 405
  | 'conflict' // 409
  | 'payload_too_large' // 413
  | 'unsupported_media_type' // 415
  | 'rate_limited' // 429
  | 'upstream_failed' // 502
  | 'upstream_unavailable' // 503
  | 'service_unavailable' // 503
  | 'upstream_timeout'; // 504

/** Which body shape the client expects: the operator API uses `detail`, the sensor endpoint `error`. */
export type Envelope = 'detail' | 'error';

export interface DomainErrorOptions {
  /** extra keys merged into the body next to `detail` (e.g. `code`, `messages` for token errors) */
  extra?: Record<string, unknown>;
  /** response headers, e.g. Retry-After or Allow */
  headers?: Record<string, string>;
  envelope?: Envelope;
  cause?: unknown;
}

export class DomainError extends Error {
  readonly extra?: Record<string, unknown>;
  readonly headers?: Record<string, string>;
  readonly envelope: Envelope;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: DomainErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.extra = options.extra;
    this.headers = options.headers;
    this.envelope = options.envelope ?? 'detail';
  }
}

/** 400 with Django REST framework's `{"field": ["message", …]}` body. */
export class ValidationError extends DomainError {
  constructor(readonly fields: Record<string, string[]>) {
    super('validation_failed', 'Invalid input.');
  }

  static field(name: string, message: string): ValidationError {
    return new ValidationError({ [name]: [message] });
  }

  /** DRF's message for a related id that names no row; `raw` is the value the client sent. */
  static invalidPkMessage(raw: unknown): string {
    return `Invalid pk "${String(raw).trim()}" - object does not exist.`;
  }

  static invalidPk(name: string, raw: unknown): ValidationError {
    return ValidationError.field(name, ValidationError.invalidPkMessage(raw));
  }
}

export type ModelName = 'Organization' | 'Zone' | 'Camera' | 'Alert' | 'Notification';

export class NotFoundError extends DomainError {
  constructor(model: ModelName) {
    super('not_found', `No ${model} matches the given query.`);
  }
}

export class PermissionDeniedError extends DomainError {
  constructor(message = 'You do not have permission to perform this action.') {
    super('forbidden', message);
  }
}

export class ConflictError extends DomainError {
  constructor(message: string) {
    super('conflict', message);
  }
}

export class RateLimitedError extends DomainError {
  constructor(message: string, retryAfterSec: number, envelope: Envelope = 'detail') {
    super('rate_limited', message, { headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSec))) }, envelope });
  }
}

export class UnauthenticatedError extends DomainError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super('unauthenticated', message, { extra, headers: { 'WWW-Authenticate': 'Bearer realm="api"' } });
  }
}

/** Raised when the database cannot be reached in time: 503 instead of a hung request. */
export class DatabaseUnavailableError extends DomainError {
  constructor(cause?: unknown) {
    super('service_unavailable', 'Service temporarily unavailable. Please retry.', { headers: { 'Retry-After': '1' }, cause });
  }
}

export function statusOf(code: ErrorCode): number {
  switch (code) {
    case 'validation_failed':
    case 'bad_request':
      return 400;
    case 'unauthenticated':
      return 401;
    case 'forbidden':
      return 403;
    case 'not_found':
      return 404;
    case 'method_not_allowed':
      return 405;
    case 'conflict':
      return 409;
    case 'payload_too_large':
      return 413;
    case 'unsupported_media_type':
      return 415;
    case 'rate_limited':
      return 429;
    case 'upstream_failed':
      return 502;
    case 'upstream_unavailable':
    case 'service_unavailable':
      return 503;
    case 'upstream_timeout':
      return 504;
    default:
      return assertUnreachable(code);
  }
}

export function assertUnreachable(x: never): never {
  throw new Error(`unreachable: ${String(x)}`);
}
