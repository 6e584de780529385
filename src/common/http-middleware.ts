import type { RequestHandler } from 'express';
import type { AppConfig } from '../config/config';

/** Security headers of spec §2 sent on every response (protocol errors included). */
export function securityHeaderList(config: AppConfig): [string, string][] {
  const out: [string, string][] = [
    ['X-Frame-Options', 'DENY'],
    ['X-Content-Type-Options', 'nosniff'],
    ['Referrer-Policy', 'same-origin'],
    ['Cross-Origin-Opener-Policy', 'same-origin'],
  ];
  if (config.isProduction) {
    out.push(['Strict-Transport-Security', 'max-age=31536000; includeSubDomains']);
  }
  return out;
}

const CSP = "default-src 'none'; frame-ancestors 'none'";

/** Security headers of spec §2 on every response. */
export function securityHeaders(config: AppConfig): RequestHandler {
  const always = securityHeaderList(config);
  return (req, res, next) => {
    for (const [k, v] of always) {
      res.setHeader(k, v);
    }
    if (!req.path.startsWith('/docs')) {
      res.setHeader('Content-Security-Policy', CSP);
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
