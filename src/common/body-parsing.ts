import { CallHandler, ExecutionContext, Injectable, NestInterceptor, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import busboy from 'busboy';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Observable } from 'rxjs';
import { DomainError } from './errors';

export const MAX_JSON_BODY_BYTES = 1024 * 1024;
/** Deeper JSON is refused before any code walks it (spec §11). */
export const MAX_JSON_DEPTH = 32;
const TOO_LARGE = (): DomainError => new DomainError('payload_too_large', 'Request body too large.');
const JSON_ERROR = (): DomainError => new DomainError('bad_request', 'JSON parse error');

const OWN_BODY = 'ecoflow:parsesOwnBody';
/** The route streams its own body (the sensor upload); the global body parsing leaves it alone. */
export const ParsesOwnBody = (): MethodDecorator => SetMetadata(OWN_BODY, true);

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Parses the body only after routing and the guard (spec §11: 404 → 405 → 401 → 403 → body), and
 * only on routes that take one: an anonymous client never gets a body parsed, and an unknown path
 * never reads one. Interceptors run after guards and before Nest extracts `@Body()`.
 */
@Injectable()
export class BodyParsingInterceptor implements NestInterceptor {
  private readonly json = express.json({ limit: MAX_JSON_BODY_BYTES, strict: false, type: () => true });
  private readonly form = express.urlencoded({ limit: MAX_JSON_BODY_BYTES, extended: false, type: () => true, parameterLimit: 1000 });

  constructor(private readonly reflector: Reflector) {}

  async intercept(ctx: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (ctx.getType() === 'http' && !this.reflector.get<boolean | undefined>(OWN_BODY, ctx.getHandler())) {
      const http = ctx.switchToHttp();
      await this.parse(http.getRequest<Request>(), http.getResponse<Response>());
    }
    return next.handle();
  }

  parse(req: Request, res: Response): Promise<void> {
    if (!BODY_METHODS.has(req.method) || !hasBody(req)) {
      return Promise.resolve();
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_JSON_BODY_BYTES) {
      return Promise.reject(TOO_LARGE());
    }
    const raw = req.headers['content-type'] ?? '';
    const type = raw.split(';')[0].trim().toLowerCase();
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const done = (err?: unknown): void => {
        if (settled) {
          return;
        }
        settled = true;
        req.off('data', countRaw);
        if (err === undefined) {
          resolve();
        } else {
          reject(mapParserError(err));
        }
      };
      // body-parser only answers a too-large body once the client has sent all of it (it reads the
      // rest first), which never happens for an endless one: count the bytes on the wire here too
      let seen = 0;
      const countRaw = (chunk: Buffer): void => {
        seen += chunk.length;
        if (seen > MAX_JSON_BODY_BYTES) {
          req.unpipe();
          done(TOO_LARGE());
        }
      };
      if (type === 'application/json' || type.endsWith('+json')) {
        this.json(req, res, (err?: unknown) => {
          if (err === undefined && jsonDepthExceeds(req.body, MAX_JSON_DEPTH)) {
            req.body = undefined;
            done(JSON_ERROR());
            return;
          }
          done(err);
        });
      } else if (type === 'application/x-www-form-urlencoded') {
        this.form(req, res, done as NextFunction);
      } else if (type === 'multipart/form-data') {
        parseMultipartFields(req, done);
      } else {
        done(new DomainError('unsupported_media_type', `Unsupported media type "${raw}" in request.`));
        return;
      }
      // attached in the same tick as the parser's own listener, so both see every chunk
      if (!settled) {
        req.on('data', countRaw);
      }
    });
  }
}

export function hasBody(req: Request): boolean {
  const len = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (len !== undefined && len !== '0');
}

/** Iterative, so a hostile nesting depth cannot overflow the stack while it is measured. */
export function jsonDepthExceeds(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') {
      continue;
    }
    if (depth + 1 > max) {
      return true;
    }
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') {
        stack.push([child, depth + 1]);
      }
    }
  }
  return false;
}

function mapParserError(err: unknown): unknown {
  if (err instanceof DomainError) {
    return err;
  }
  const type = (err as { type?: unknown } | null)?.type;
  switch (typeof type === 'string' ? type : '') {
    case 'entity.too.large':
      return TOO_LARGE();
    case 'entity.parse.failed':
      return JSON_ERROR();
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new DomainError('unsupported_media_type', 'Unsupported media type in request.');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
    case 'parameters.too.many':
      return new DomainError('bad_request', 'Malformed request body.');
    default:
      // any other failure of reading the body (a reset socket, a broken gzip stream) is the client's
      return new DomainError('bad_request', 'Malformed request body.');
  }
}

/**
 * Text fields of a multipart body; file parts are drained and ignored on these routes. The size
 * limit is the caller's count of raw bytes, which covers every part.
 */
function parseMultipartFields(req: Request, done: (err?: unknown) => void): void {
  let bb: busboy.Busboy;
  try {
    bb = busboy({ headers: req.headers, limits: { fieldSize: MAX_JSON_BODY_BYTES, fields: 1000, files: 10, parts: 1000, headerPairs: 100 } });
  } catch {
    done(new DomainError('bad_request', 'Multipart form parse error - Invalid boundary in multipart: None'));
    return;
  }
  const fields: Record<string, string> = {};
  const fail = (): void => {
    req.unpipe(bb); // the rest is drained (bounded) or the socket closed after the answer: unreadBodyLinger
    done(new DomainError('bad_request', 'Multipart form parse error.'));
  };
  bb.on('field', (name: string | undefined, value) => {
    // busboy reports a part with an empty or missing name as undefined; it binds to no field
    if (name !== undefined) {
      fields[name] = value;
    }
  });
  bb.on('file', (_name, stream) => {
    // a body that ends inside a file part makes this stream emit 'error': unhandled, it kills the process
    stream.on('error', fail);
    stream.resume();
  });
  bb.on('error', fail);
  bb.on('close', () => {
    req.body = fields;
    done();
  });
  req.on('error', () => done(new DomainError('bad_request', 'Malformed request body.')));
  req.pipe(bb);
}

/** Bytes and time we keep reading an unread body after answering, so the client can read the answer. */
const LINGER_BYTES = 1024 * 1024;
const LINGER_MS = 2000;

/**
 * An answer sent before the body was read (401, 404, 413 …): a small declared remainder is
 * drained as Node does and the connection kept; anything else (chunked, large) is answered with
 * `Connection: close` and a lingering close: our side is shut, the rest is read and dropped for at
 * most 1 MiB or 2 s, then the socket is destroyed. So a junk body is never read to its end, and a
 * client still sending gets its answer instead of a reset. Mounted first.
 */
export function unreadBodyLinger(): RequestHandler {
  return (req, res, next) => {
    if (hasBody(req)) {
      const writeHead = res.writeHead;
      res.writeHead = function (this: Response, ...args: unknown[]) {
        if (!req.complete && !res.headersSent) {
          const declared = Number(req.headers['content-length']);
          if (!(Number.isFinite(declared) && declared <= LINGER_BYTES)) {
            res.setHeader('Connection', 'close');
            lingerOnClose(req);
          }
        }
        return (writeHead as (...a: unknown[]) => Response).apply(this, args);
      } as typeof res.writeHead;
    }
    next();
  };
}

function lingerOnClose(req: Request): void {
  // Node ends a `Connection: close` response with socket.destroySoon(), which resets a client still sending
  const socket = req.socket as Request['socket'] & { destroySoon?: () => void };
  socket.destroySoon = () => {
    socket.end();
    let seen = 0;
    const stop = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.destroy();
    };
    const onData = (chunk: Buffer): void => {
      seen += chunk.length;
      if (seen > LINGER_BYTES) {
        stop();
      }
    };
    const timer = setTimeout(stop, LINGER_MS);
    timer.unref();
    socket.on('data', onData);
    socket.once('close', () => clearTimeout(timer));
    req.resume(); // a body parser that gave up left the request paused
  };
}
