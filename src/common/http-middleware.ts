import busboy from 'busboy';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { AppConfig } from '../config/config';
import { DomainError } from './errors';

export const MAX_JSON_BODY_BYTES = 1024 * 1024;
const TOO_LARGE = (): DomainError => new DomainError('payload_too_large', 'Request body too large.');

/** Paths that parse their own body (the sensor endpoint streams multipart uploads). */
const SELF_PARSED = /^\/sensor\/detect\/?$/;

/** Security headers of spec §2 on every response. */
export function securityHeaders(config: AppConfig): RequestHandler {
  return (req, res, next) => {
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    if (!req.path.startsWith('/docs')) {
      res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
    }
    if (config.isProduction) {
      res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    }
    if (req.path.startsWith('/auth/')) {
      res.setHeader('Cache-Control', 'no-store');
    }
    next();
  };
}

const ALLOW_METHODS = 'DELETE, GET, OPTIONS, PATCH, POST, PUT';
const ALLOW_HEADERS = 'accept, authorization, content-type, user-agent, x-csrftoken, x-requested-with, x-device-key';

/** CORS of spec §2: `*` by default, or an exact allow-list echoed with `Vary: Origin`. No credentials. */
export function cors(config: AppConfig): RequestHandler {
  const list = config.corsOrigins === '*' ? null : new Set(config.corsOrigins);
  return (req, res, next) => {
    const origin = req.headers.origin;
    let allowed = false;
    if (list === null) {
      res.setHeader('Access-Control-Allow-Origin', '*');
      allowed = true;
    } else {
      res.setHeader('Vary', 'Origin');
      if (origin && list.has(origin)) {
        res.setHeader('Access-Control-Allow-Origin', origin);
        allowed = true;
      }
    }
    if (allowed) {
      res.setHeader('Access-Control-Expose-Headers', 'X-Total-Count, Retry-After');
    }
    if (req.method === 'OPTIONS') {
      if (allowed) {
        res.setHeader('Access-Control-Allow-Methods', ALLOW_METHODS);
        res.setHeader('Access-Control-Allow-Headers', ALLOW_HEADERS);
        res.setHeader('Access-Control-Max-Age', '3600');
      }
      res.status(204).end();
      return;
    }
    next();
  };
}

function hasBody(req: Request): boolean {
  const len = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (len !== undefined && len !== '0');
}

/**
 * JSON, urlencoded and multipart (text fields) bodies up to 1 MiB, anything else 415 (spec §2).
 * Parser failures become domain errors so the global filter answers them in the spec's shape.
 */
export function bodyParsing(): RequestHandler {
  const json = express.json({ limit: MAX_JSON_BODY_BYTES, strict: false, type: () => true });
  const form = express.urlencoded({ limit: MAX_JSON_BODY_BYTES, extended: false, type: () => true, parameterLimit: 1000 });
  return (req: Request, res: Response, next: NextFunction) => {
    if (SELF_PARSED.test(req.path) || !hasBody(req) || req.method === 'GET' || req.method === 'HEAD') {
      next();
      return;
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_JSON_BODY_BYTES) {
      next(TOO_LARGE());
      return;
    }
    const raw = req.headers['content-type'] ?? '';
    const type = raw.split(';')[0].trim().toLowerCase();
    const done = (err?: unknown): void => next(err === undefined ? undefined : mapParserError(err));
    if (type === 'application/json' || type.endsWith('+json')) {
      json(req, res, done);
    } else if (type === 'application/x-www-form-urlencoded') {
      form(req, res, done);
    } else if (type === 'multipart/form-data') {
      parseMultipartFields(req, done);
    } else {
      next(new DomainError('unsupported_media_type', `Unsupported media type "${raw}" in request.`));
    }
  };
}

function mapParserError(err: unknown): unknown {
  const type = (err as { type?: unknown } | null)?.type;
  switch (typeof type === 'string' ? type : '') {
    case 'entity.too.large':
      return TOO_LARGE();
    case 'entity.parse.failed':
      return new DomainError('bad_request', 'JSON parse error');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new DomainError('unsupported_media_type', 'Unsupported media type in request.');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
    case 'parameters.too.many':
      return new DomainError('bad_request', 'Malformed request body.');
    default:
      return err;
  }
}

/** Text fields of a multipart body; file parts are drained and ignored on these routes. */
function parseMultipartFields(req: Request, done: (err?: unknown) => void): void {
  let bb: busboy.Busboy;
  try {
    bb = busboy({ headers: req.headers, limits: { fieldSize: MAX_JSON_BODY_BYTES, fields: 1000, files: 10 } });
  } catch {
    done(new DomainError('bad_request', 'Multipart form parse error - Invalid boundary in multipart: None'));
    return;
  }
  const fields: Record<string, string> = {};
  let total = 0;
  let finished = false;
  const finish = (err?: unknown): void => {
    if (!finished) {
      finished = true;
      if (err) {
        req.unpipe(bb);
        req.resume();
      }
      done(err);
    }
  };
  bb.on('field', (rawName, value) => {
    // busboy reports a part with an empty or missing name as undefined; it binds to no field
    const name = rawName as string | undefined;
    total += (name?.length ?? 0) + value.length;
    if (total > MAX_JSON_BODY_BYTES) {
      finish(TOO_LARGE());
      return;
    }
    if (name === undefined) {
      return;
    }
    fields[name] = value;
  });
  bb.on('file', (_name, stream) => {
    stream.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > MAX_JSON_BODY_BYTES) {
        finish(TOO_LARGE());
      }
    });
    stream.resume();
  });
  bb.on('error', () => finish(new DomainError('bad_request', 'Multipart form parse error.')));
  bb.on('close', () => {
    req.body = fields;
    finish();
  });
  req.pipe(bb);
}
