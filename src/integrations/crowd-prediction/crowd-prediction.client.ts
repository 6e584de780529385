import { Inject, Injectable } from '@nestjs/common';
import axios, { AxiosError, AxiosInstance, AxiosResponse } from 'axios';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { LOGGER, type AppLogger } from '../../common/logger';
import { AppConfig } from '../../config/config';
import { Metrics } from '../../observability/metrics.service';
import { CrowdFailureKind, CrowdImage, CrowdPredictionError } from './crowd-prediction.errors';
import { BreakerOpenError, BreakerState, UpstreamBreaker } from './upstream-breaker';

export { sanitizeFilename } from './sanitize-filename';

const MAX_RESPONSE_BYTES = 1024 * 1024;

/** A failure that indicates the detector is down (counts toward opening the breaker). */
class CrowdOutageError extends CrowdPredictionError {}

/**
 * The only place that knows the crowd-prediction detector's HTTP shape (spec §9).
 * Services call `crowd.count(...)`; they never see axios.
 */
@Injectable()
export class CrowdPredictionClient {
  private readonly http: AxiosInstance;
  private readonly breaker: UpstreamBreaker;
  private readonly log: AppLogger;

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    @Inject(LOGGER) logger: AppLogger,
  ) {
    this.http = axios.create({ validateStatus: () => true, maxRedirects: 0 });
    this.log = logger.child({ context: 'CrowdPredictionClient' });
    this.breaker = new UpstreamBreaker('crowd_api', config.crowd.breaker, this.log);
  }

  get configured(): boolean {
    return this.config.crowd.predictUrl !== null;
  }

  get breakerState(): BreakerState {
    return this.breaker.state;
  }

  /**
   * One detector call: returns `sahi_count` (fractions truncated). Throws CrowdPredictionError whose
   * kind the detection service maps to 502/503/504. While the breaker is open it fails at once.
   */
  async count(image: CrowdImage): Promise<number> {
    const start = performance.now();
    const url = this.config.crowd.predictUrl;
    try {
      if (url === null) {
        throw new CrowdPredictionError('connect_error', 'CROWD_PREDICT_URL is not set');
      }
      const n = await this.breaker.execute(() => this.post(url, image), (e) => e instanceof CrowdOutageError);
      this.metrics.recordUpstream('crowd', 'ok', (performance.now() - start) / 1000);
      return n;
    } catch (e) {
      const err = toCrowdError(e);
      this.metrics.recordUpstream('crowd', err.kind, (performance.now() - start) / 1000);
      // while open every call is rejected; the state change itself was logged as a warning
      this.log[e instanceof BreakerOpenError ? 'debug' : 'warn']({ kind: err.kind, reason: err.message, circuit: this.breaker.state, duration_ms: Math.round(performance.now() - start) }, 'crowd API call failed');
      throw err;
    }
  }

  private async post(url: string, image: CrowdImage): Promise<number> {
    const timeoutMs = this.config.crowd.timeoutMs;
    // the signal bounds connect + upload + read; axios' own timeout alone does not cover every phase
    const signal = AbortSignal.timeout(timeoutMs);
    const form = multipartFile('file', image);
    let res: AxiosResponse<ArrayBuffer>;
    try {
      // streamed from the upload's own buffer: a 10 MiB image is not copied into a second body buffer
      res = await this.http.post<ArrayBuffer>(url, Readable.from(form.parts, { objectMode: false }), {
        headers: { 'Content-Type': form.contentType, 'Content-Length': String(form.length) },
        timeout: timeoutMs,
        signal,
        responseType: 'arraybuffer',
        maxContentLength: MAX_RESPONSE_BYTES,
        maxBodyLength: Infinity,
      });
    } catch (e) {
      throw classifyTransportError(e, signal.aborted);
    }
    const body = Buffer.from(res.data);
    if (res.status < 200 || res.status > 299) {
      // the body is not logged (spec §2: upstream bodies stay out of logs), only its shape
      this.log.warn({ upstream_status: res.status, content_type: res.headers['content-type'] ?? null, body_bytes: body.length }, 'crowd API answered an error status');
      const Kind = res.status >= 500 ? CrowdOutageError : CrowdPredictionError;
      throw new Kind('http_error', `crowd API answered ${res.status}`);
    }
    return parseSahiCount(body);
  }

  /** `GET <origin>/health`: any 2xx means up. Throws otherwise. */
  async health(timeoutMs: number): Promise<void> {
    const url = new URL('/health', this.config.crowd.predictUrl ?? 'http://invalid').toString();
    const res = await this.http.get(url, { timeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs), responseType: 'text', maxContentLength: 64 * 1024 });
    if (res.status < 200 || res.status > 299) {
      throw new Error(`crowd health answered ${res.status}`);
    }
  }
}

/**
 * The one-file multipart body of spec §9 as three buffers (head, the image itself, tail) with their
 * total length. A FormData with a Blob made axios stream the image through web streams in small
 * chunks (about 15 % of the main thread's time on the DANGER path); these go out as they are.
 */
export function multipartFile(field: string, image: CrowdImage): { parts: Buffer[]; length: number; contentType: string } {
  const boundary = `----ecoflow${randomBytes(12).toString('hex')}`;
  const escape = (v: string): string => v.replace(/[\r\n"]/g, (c) => ({ '\r': '%0D', '\n': '%0A', '"': '%22' })[c] ?? c);
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="${escape(field)}"; filename="${escape(image.filename)}"\r\nContent-Type: ${image.mimeType}\r\n\r\n`;
  const parts = [Buffer.from(head, 'utf8'), image.buffer, Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1')];
  return { parts, length: parts.reduce((n, p) => n + p.length, 0), contentType: `multipart/form-data; boundary=${boundary}` };
}

function toCrowdError(e: unknown): CrowdPredictionError {
  if (e instanceof CrowdOutageError) {
    // plain class toward callers: the outage marker is internal to the breaker
    return new CrowdPredictionError(e.kind, e.message);
  }
  if (e instanceof CrowdPredictionError) {
    return e;
  }
  if (e instanceof BreakerOpenError) {
    return new CrowdPredictionError('connect_error', 'crowd API circuit is open');
  }
  return new CrowdPredictionError('connect_error', e instanceof Error ? e.message : 'unknown failure');
}

function classifyTransportError(e: unknown, timedOut: boolean): CrowdPredictionError {
  const code = e instanceof AxiosError ? e.code : undefined;
  const message = e instanceof Error ? e.message : String(e);
  if (timedOut || code === AxiosError.ECONNABORTED || code === AxiosError.ETIMEDOUT || code === 'ETIMEDOUT') {
    return new CrowdOutageError('timeout', `crowd API timed out (${code ?? 'aborted'})`);
  }
  if (code === AxiosError.ERR_BAD_RESPONSE && /maxContentLength/i.test(message)) {
    return new CrowdPredictionError('invalid_response', 'crowd API response exceeds 1 MiB');
  }
  if (code === AxiosError.ERR_INVALID_URL) {
    return new CrowdPredictionError('connect_error', 'CROWD_PREDICT_URL is invalid');
  }
  // refused, DNS, reset (also mid-body), TLS
  const cause = (e as { cause?: { code?: string } } | null)?.cause?.code;
  return new CrowdOutageError('connect_error', `crowd API unreachable (${code ?? cause ?? message})`);
}

/** `sahi_count` as a non-negative integer: a JSON number or a digit string, fractions truncated. */
export function parseSahiCount(body: Buffer): number {
  const invalid = (why: string): CrowdPredictionError => new CrowdPredictionError('invalid_response' satisfies CrowdFailureKind, `crowd API response ${why}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw invalid('is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || !('sahi_count' in parsed)) {
    throw invalid('has no sahi_count');
  }
  const raw = (parsed as { sahi_count: unknown }).sahi_count;
  let n: number;
  if (typeof raw === 'number') {
    n = raw;
  } else if (typeof raw === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(raw)) {
    n = Number(raw);
  } else {
    throw invalid('has a non-numeric sahi_count');
  }
  if (!Number.isFinite(n) || n < 0) {
    throw invalid('has a negative sahi_count');
  }
  const count = Math.trunc(n);
  if (!Number.isSafeInteger(count)) {
    throw invalid('has an out-of-range sahi_count');
  }
  return count;
}
