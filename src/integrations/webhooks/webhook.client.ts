import { Injectable } from '@nestjs/common';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP } from 'node:net';
import { AppConfig } from '../../config/config';
import { DESTINATION_NOT_ALLOWED, guardedLookup, isDisallowedAddress } from './destination-guard';

/** At most this much of an answer is read (ALERTING.md §2); the rest is never received. */
export const MAX_RESPONSE_BYTES = 256 * 1024;
export const USER_AGENT = 'EcoFlow-Webhooks/1';

/** What one POST to a receiver gave. Never holds the response body. */
export interface WebhookResponse {
  /** HTTP status of the answer; null when none arrived */
  status: number | null;
  /** the answer's Retry-After header, as sent */
  retryAfter: string | null;
  /** short reason when no answer arrived (`timeout`, `connection refused`, `destination not allowed`, …); null otherwise */
  error: string | null;
  /** no answer within WEBHOOK_TIMEOUT_MS: the receiver may have acted on the request */
  timedOut: boolean;
}

const noAnswer = (error: string, timedOut = false): WebhookResponse => ({ status: null, retryAfter: null, error, timedOut });

/** A short, body-free reason for a transport failure. */
function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { errors?: NodeJS.ErrnoException[] };
  const code = e?.code ?? e?.errors?.[0]?.code ?? '';
  if (code === DESTINATION_NOT_ALLOWED) {
    return 'destination not allowed';
  }
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'connection reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NODATA':
      return 'host not found';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_STATUS':
    case 'HPE_HEADER_OVERFLOW':
      return 'invalid HTTP response';
    default:
      if (/CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
        return 'TLS error';
      }
      return /^[A-Z0-9_]{2,40}$/.test(code) ? `network error (${code})` : 'network error';
  }
}

/**
 * Sends webhook requests (ALERTING.md §2): one POST on a fresh connection, redirects not
 * followed, WEBHOOK_TIMEOUT_MS covering DNS, connect, TLS and the answer, at most 256 KiB of
 * the answer read and discarded, and the SSRF guard on the address actually connected to.
 */
@Injectable()
export class WebhookClient {
  constructor(private readonly config: AppConfig) {}

  post(url: string, body: string, headers: Record<string, string>): Promise<WebhookResponse> {
    const { timeoutMs, allowPrivate } = this.config.webhooks;
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return Promise.resolve(noAnswer('invalid URL'));
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      return Promise.resolve(noAnswer('invalid URL'));
    }
    const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
    // a literal IP is connected to without a lookup, so it is judged here
    if (!allowPrivate && isIP(host) && isDisallowedAddress(host)) {
      return Promise.resolve(noAnswer('destination not allowed'));
    }
    const transport = target.protocol === 'https:' ? https : http;
    return new Promise<WebhookResponse>((resolve) => {
      let settled = false;
      let status: number | null = null;
      let retryAfter: string | null = null;
      const answered = (): WebhookResponse => ({ status, retryAfter, error: null, timedOut: false });
      const finish = (r: WebhookResponse): void => {
        if (settled) {
          return;
        }
        settled = true;
        clearTimeout(timer);
        req.destroy(); // nothing more is read; the connection is never reused
        resolve(r);
      };
      const timer = setTimeout(() => finish(status !== null ? answered() : noAnswer('timeout', true)), timeoutMs);
      const req = transport.request(
        target,
        {
          method: 'POST',
          agent: false,
          ...(allowPrivate ? {} : { lookup: guardedLookup }),
          headers: {
            ...headers,
            'content-type': 'application/json',
            'user-agent': USER_AGENT,
            'content-length': String(Buffer.byteLength(body)),
          },
        },
        (res) => {
          status = res.statusCode ?? null;
          const ra = res.headers['retry-after'];
          retryAfter = typeof ra === 'string' ? ra : null;
          let bytes = 0;
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            if (bytes >= MAX_RESPONSE_BYTES) {
              finish(answered());
            }
          });
          res.on('end', () => finish(answered()));
          res.on('error', () => finish(answered())); // cut off mid-body: the status had arrived
          res.on('aborted', () => finish(answered()));
        },
      );
      req.on('error', (err) => finish(status !== null ? answered() : noAnswer(reason(err))));
      req.end(body);
    });
  }
}
