import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { AppConfig } from '../config/config';
import { securityHeaderList } from './http-middleware';

/** Node's client errors that get a JSON answer (spec §11); anything else just closes the socket. */
const PROTOCOL_ERRORS: Record<string, { status: number; reason: string; detail: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, reason: 'Request Header Fields Too Large', detail: 'Request headers too large.' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, reason: 'Request Timeout', detail: 'Request timeout.' },
  ERR_HTTP_HEADERS_TIMEOUT: { status: 408, reason: 'Request Timeout', detail: 'Request timeout.' },
};
const BAD_REQUEST = { status: 400, reason: 'Bad Request', detail: 'Bad request.' };

/**
 * Slow-client and protocol limits of spec §11 on the HTTP server: headers within 20 s (also
 * closes a connection that never sends a request), a whole request within
 * REQUEST_BODY_TIMEOUT_MS, idle keep-alive sockets closed after 65 s; protocol errors answered
 * as JSON with the security headers instead of Node's bare text.
 */
export function applyServerLimits(server: Server, config: AppConfig): void {
  const { headersTimeoutMs, requestBodyTimeoutMs, keepAliveTimeoutMs } = config.limits;
  server.headersTimeout = headersTimeoutMs;
  server.requestTimeout = Math.max(requestBodyTimeoutMs, headersTimeoutMs);
  server.keepAliveTimeout = keepAliveTimeoutMs;
  // Node checks the two timeouts above on this period (30 s by default, too coarse for a 20 s limit);
  // it is read when the server starts listening
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = 1000;
  const headers = [...securityHeaderList(config), ['Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'"]];
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    // only write where nothing of a response has been written yet, as Node itself does
    // a connection that never sent a byte (a preconnect, a port scan) is just closed
    if (!socket.writable || inFlight?.headersSent || err.code === 'ECONNRESET' || socket.bytesRead === 0) {
      socket.destroy();
      return;
    }
    const p = PROTOCOL_ERRORS[err.code ?? ''] ?? BAD_REQUEST;
    const body = JSON.stringify({ detail: p.detail });
    const lines = [
      `HTTP/1.1 ${p.status} ${p.reason}`,
      'Content-Type: application/json; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: close',
      ...headers.map(([k, v]) => `${k}: ${v}`),
    ];
    socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
    // a client that does not read the answer must not hold the socket
    setTimeout(() => socket.destroy(), 1000).unref();
  });
}
