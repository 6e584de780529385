import axios, { AxiosError, type AxiosInstance } from 'axios';
import type { Readable } from 'node:stream';
import type { GatewayResult } from './whatsapp.gateway';

/** At most this much of a gateway's answer is read, then dropped; it is never stored or logged. */
export const MAX_GATEWAY_RESPONSE_BYTES = 64 * 1024;

export interface GatewayPost {
  url: string;
  headers: Record<string, string>;
  body: unknown;
  timeoutMs: number;
}

/**
 * One JSON POST to a gateway with a real time limit covering connect, upload and the whole answer,
 * no redirects followed, and the answer read only up to 64 KiB (then the socket is dropped). Only
 * the status matters: 2xx = accepted.
 */
export class GatewayHttp {
  private readonly http: AxiosInstance = axios.create({ validateStatus: () => true, maxRedirects: 0, proxy: false });

  async post(req: GatewayPost): Promise<GatewayResult> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, req.timeoutMs);
    try {
      const res = await this.http.post<Readable>(req.url, JSON.stringify(req.body), {
        headers: { ...req.headers, 'Content-Type': 'application/json', Accept: 'application/json' },
        timeout: req.timeoutMs,
        signal: controller.signal,
        responseType: 'stream',
        maxBodyLength: 1024 * 1024,
      });
      const status = res.status;
      await drain(res.data, MAX_GATEWAY_RESPONSE_BYTES, controller.signal);
      if (status >= 200 && status <= 299) {
        return { ok: true, status, error: null, timedOut: false };
      }
      return { ok: false, status, error: status >= 300 && status <= 399 ? 'redirect not followed' : `HTTP ${status}`, timedOut: false };
    } catch (err) {
      if (timedOut || isTimeout(err)) {
        return { ok: false, status: null, error: 'timeout', timedOut: true };
      }
      return { ok: false, status: null, error: transportError(err), timedOut: false };
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Reads the answer until its end, `max` bytes, or the time limit, whichever comes first, then lets
 * it go. The status has arrived already, so how the body ends changes nothing.
 */
function drain(stream: Readable, max: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    let n = 0;
    let settled = false;
    stream.on('error', () => undefined); // a reset after the status: nothing to add
    const done = (): void => {
      if (settled) {
        return;
      }
      settled = true;
      signal.removeEventListener('abort', done);
      stream.removeAllListeners('data');
      stream.destroy();
      resolve();
    };
    if (signal.aborted) {
      done();
      return;
    }
    signal.addEventListener('abort', done);
    stream.on('data', (chunk: Buffer) => {
      n += chunk.length;
      if (n >= max) {
        done(); // enough: the status is what counts
      }
    });
    stream.once('end', done);
    stream.once('close', done);
  });
}

function isTimeout(err: unknown): boolean {
  const code = err instanceof AxiosError ? err.code : undefined;
  return code === AxiosError.ECONNABORTED || code === AxiosError.ETIMEDOUT || code === 'ETIMEDOUT';
}

/** A short reason without addresses or bodies. */
function transportError(err: unknown): string {
  const code = (err as { code?: string } | null)?.code ?? (err as { cause?: { code?: string } } | null)?.cause?.code;
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    EPIPE: 'connection reset',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host not found',
    [AxiosError.ERR_INVALID_URL]: 'invalid gateway URL',
  };
  if (code === undefined) {
    return 'network error';
  }
  return known[code] ?? `network error (${code})`;
}
