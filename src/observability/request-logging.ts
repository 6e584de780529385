import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import { pinoHttp } from 'pino-http';
import { accessLoggerOf, type AppLogger } from '../common/logger';
import { requestContext } from '../common/request-context';
import type { Metrics } from './metrics.service';

export interface RequestLoggingOptions {
  /** GCP project id (GOOGLE_CLOUD_PROJECT): needed to turn a trace header into Cloud Logging's trace field */
  projectId: string | null;
}

/** What a caller may choose as its request id; anything else (huge, control characters) gets a uuid. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;
const PROBE_PATH = /^\/health\/(live|ready)\/?$/;
const CLOUD_TRACE = /^([0-9a-f]{32})(?:\/(\d{1,20}))?(?:;o=([01]))?/i;
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/i;

const START = Symbol('requestStart');
const omitted = (): undefined => undefined;
type Timed = IncomingMessage & { [START]?: bigint; id?: unknown };

/**
 * Request id, access log and HTTP metrics, mounted before everything else.
 *
 * One JSON line per request in Cloud Logging's shape (`httpRequest`, trace, `request_id`).
 * The line is built field by field from method, path, status, timing and the peer, so headers
 * (Authorization, X-Device-Key), query strings and bodies can never reach it.
 */
export function requestObservability(logger: AppLogger, metrics: Metrics, opts: RequestLoggingOptions): RequestHandler {
  const access = pinoHttp({
    // pino-http binds the raw request to a child logger on every request (even when, as here,
    // that logger is never used); without these serializers pino serializes the whole
    // IncomingMessage with its socket, hits the cycle, and re-walks it with safe-stable-stringify
    logger: accessLoggerOf(logger).child({ context: 'http' }, { serializers: { req: omitted, res: omitted } }),
    wrapSerializers: false,
    quietReqLogger: true,
    quietResLogger: true,
    customAttributeKeys: { reqId: 'request_id' },
    genReqId: (req, res) => ((req as Timed).id as string | undefined) ?? requestId(req, res),
    customLogLevel: (req, res, err) => {
      const status = statusOf(res);
      if (err !== undefined || status >= 500) {
        return 'error';
      }
      if (status >= 400) {
        return 'warn';
      }
      // Cloud Run probes every few seconds; their success is noise at info level
      return PROBE_PATH.test(pathOf(req)) ? 'debug' : 'info';
    },
    customSuccessMessage: (req, res) => `${req.method ?? ''} ${pathOf(req)} ${statusOf(res)}`,
    customErrorMessage: (req, res) => `${req.method ?? ''} ${pathOf(req)} ${statusOf(res)}`,
    customSuccessObject: (req, res) => entry(req, res, opts),
    customErrorObject: (req, res) => entry(req, res, opts),
  });

  return (req: Request, res: Response, next) => {
    (req as Timed)[START] = process.hrtime.bigint();
    const id = requestId(req, res);
    (req as Timed).id = id; // pino-http keeps an id that is already set
    res.once('close', () => {
      const route = req.route ? `${req.baseUrl}${(req.route as { path: string }).path}` : 'unmatched';
      metrics.observeHttp(req.method, route, statusOf(res), seconds(req));
    });
    requestContext.run({ request_id: id, ...traceFields(req, opts.projectId) }, () => access(req, res, next));
  };
}

function requestId(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

/** A response closed before it finished (client gone) is logged as 499, as load balancers do. */
function statusOf(res: ServerResponse): number {
  return res.writableFinished || res.headersSent ? res.statusCode : 499;
}

function pathOf(req: IncomingMessage): string {
  const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '';
  return url.split('?')[0];
}

function seconds(req: IncomingMessage): number {
  const start = (req as Timed)[START];
  return start === undefined ? 0 : Number(process.hrtime.bigint() - start) / 1e9;
}

function entry(req: IncomingMessage, res: ServerResponse, opts: RequestLoggingOptions): Record<string, unknown> {
  const length = res.getHeader('content-length');
  const out: Record<string, unknown> = {
    httpRequest: {
      requestMethod: req.method,
      requestUrl: pathOf(req),
      status: statusOf(res),
      latency: `${seconds(req).toFixed(3)}s`,
      userAgent: req.headers['user-agent'],
      remoteIp: (req as IncomingMessage & { ip?: string }).ip ?? req.socket.remoteAddress,
      responseSize: length === undefined ? undefined : String(length),
      protocol: `HTTP/${req.httpVersion}`,
    },
  };
  return { ...out, ...traceFields(req, opts.projectId) };
}

/** Cloud Logging's trace correlation, from X-Cloud-Trace-Context or W3C traceparent. */
export function traceFields(req: IncomingMessage, projectId: string | null): Record<string, unknown> {
  if (!projectId) {
    return {};
  }
  let traceId: string | null = null;
  let spanId: string | null = null;
  let sampled: boolean | null = null;
  const cloud = req.headers['x-cloud-trace-context'];
  const parent = req.headers.traceparent;
  const c = typeof cloud === 'string' ? CLOUD_TRACE.exec(cloud) : null;
  const p = typeof parent === 'string' ? TRACEPARENT.exec(parent.trim()) : null;
  if (c) {
    traceId = c[1].toLowerCase();
    // the legacy header carries the span id in decimal; Cloud Logging wants 16 hex digits
    spanId = c[2] !== undefined && BigInt(c[2]) < 2n ** 64n ? BigInt(c[2]).toString(16).padStart(16, '0') : null;
    sampled = c[3] === undefined ? null : c[3] === '1';
  } else if (p) {
    traceId = p[1].toLowerCase();
    spanId = p[2].toLowerCase();
    sampled = (parseInt(p[3], 16) & 1) === 1;
  }
  if (!traceId) {
    return {};
  }
  return {
    'logging.googleapis.com/trace': `projects/${projectId}/traces/${traceId}`,
    ...(spanId ? { 'logging.googleapis.com/spanId': spanId } : {}),
    ...(sampled === null ? {} : { 'logging.googleapis.com/trace_sampled': sampled }),
  };
}
