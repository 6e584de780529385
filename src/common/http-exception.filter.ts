import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Inject, NotFoundException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { isDatabaseUnavailable } from '../database/db-errors';
import { DatabaseUnavailableError, DomainError, statusOf, ValidationError } from './errors';
import { LOGGER, type AppLogger } from './logger';
import { RouteTable } from './route-table';

export interface ErrorResponse {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

/**
 * The one place where errors become HTTP responses (spec §2.1). Domain errors map by code;
 * Nest's own exceptions (unknown route, parser errors) by status; anything else is a 500 with
 * an error id that the log carries next to the stack, and no internals in the body.
 */
@Catch()
export class GlobalExceptionFilter implements ExceptionFilter {
  private readonly log: AppLogger;

  constructor(
    private readonly routes: RouteTable,
    @Inject(LOGGER) logger: AppLogger,
  ) {
    this.log = logger.child({ context: 'ExceptionFilter' });
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request>();
    const res = ctx.getResponse<Response>();
    const out = this.toResponse(exception, req);
    if (res.headersSent) {
      this.log.warn({ err: exception }, 'error after the response started');
      res.end();
      return;
    }
    for (const [k, v] of Object.entries(out.headers)) {
      res.setHeader(k, v);
    }
    res.status(out.status).json(out.body);
  }

  toResponse(exception: unknown, req: Request): ErrorResponse {
    let err = exception;
    if (!(err instanceof DomainError) && isDatabaseUnavailable(err)) {
      this.log.error({ err }, 'database unavailable');
      err = new DatabaseUnavailableError(err);
    }
    if (err instanceof DomainError) {
      return fromDomainError(err);
    }
    if (err instanceof NotFoundException && /^Cannot [A-Z]+ /.test(err.message)) {
      // Nest's not-found handler: a known path with another method is a 405
      const allowed = this.routes.allowedMethods(req.path);
      if (allowed.length && !allowed.includes(req.method)) {
        return {
          status: 405,
          body: { detail: `Method "${req.method}" not allowed.` },
          headers: { Allow: allowed.join(', ') },
        };
      }
      return { status: 404, body: { detail: 'Not found.' }, headers: {} };
    }
    if (err instanceof HttpException && err.getStatus() < 500) {
      const status = err.getStatus();
      return { status, body: { detail: httpDetail(status, err) }, headers: {} };
    }
    const errorId = randomUUID();
    this.log.error({ err: exception, error_id: errorId, method: req.method, path: req.path }, 'unhandled error');
    return { status: 500, body: { detail: 'Internal server error', error_id: errorId }, headers: {} };
  }
}

export function fromDomainError(err: DomainError): ErrorResponse {
  const status = statusOf(err.code);
  const headers = { ...(err.headers ?? {}) };
  if (err instanceof ValidationError) {
    return { status, body: err.fields, headers };
  }
  if (err.envelope === 'error') {
    return { status, body: { error: err.message }, headers };
  }
  return { status, body: { detail: err.message, ...(err.extra ?? {}) }, headers };
}

function httpDetail(status: number, err: HttpException): string {
  switch (status) {
    case 400:
      return 'Bad request.';
    case 404:
      return 'Not found.';
    case 413:
      return 'Request body too large.';
    default: {
      const r = err.getResponse();
      return typeof r === 'string' ? r : err.message;
    }
  }
}
