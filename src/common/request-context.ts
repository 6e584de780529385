import { AsyncLocalStorage } from 'node:async_hooks';

/** What every log line written while serving a request carries (request id, Cloud Trace fields). */
export interface RequestContext {
  request_id: string;
  [traceField: string]: unknown;
}

/**
 * Set once per request by the request-logging middleware; the logger's mixin reads it, so a
 * warning from the Gemini client or the pool can be matched to its access-log line.
 */
export const requestContext = new AsyncLocalStorage<RequestContext>();
