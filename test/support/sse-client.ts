import http from 'node:http';

/** One dispatched server-sent event, with the time it arrived (Date.now()). */
export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
  at: number;
}

export interface SseComment {
  text: string;
  at: number;
}

export interface SseConnectOptions {
  headers?: Record<string, string>;
  /** a non-2xx answer or a stream: resolve once the headers are in (default 10 s) */
  timeoutMs?: number;
}

/**
 * A small text/event-stream client over node:http (what a browser's EventSource does, without
 * the automatic reconnect): parses `id`, `event`, `data`, `retry` and comments as they arrive.
 * A non-2xx answer is read whole into `body` (and `json`).
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: SseComment[] = [];
  /** every `retry:` value received, in order */
  readonly retries: { ms: number; at: number }[] = [];
  /** the last `id:` seen, as an EventSource keeps it for Last-Event-ID */
  lastEventId: string | undefined;
  status = 0;
  headers: http.IncomingHttpHeaders = {};
  body = '';
  json: any;
  /** resolves when the response ended or the connection closed, from either side */
  readonly ended: Promise<void>;
  endedAt = 0;
  private resolveEnded!: () => void;
  private res: http.IncomingMessage | null = null;
  private pending = '';
  private current: { id?: string; event?: string; data: string[]; hasData: boolean } = { data: [], hasData: false };
  private waiters: (() => void)[] = [];

  private constructor(private readonly req: http.ClientRequest) {
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  static connect(url: string, opts: SseConnectOptions = {}): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = http.get(url, { headers: { accept: 'text/event-stream', ...(opts.headers ?? {}) }, agent: false });
      const client = new SseClient(req);
      const timer = setTimeout(() => {
        req.destroy();
        reject(new Error(`no response headers from ${url} within ${opts.timeoutMs ?? 10000} ms`));
      }, opts.timeoutMs ?? 10000);
      req.on('error', (err) => {
        clearTimeout(timer);
        client.finish();
        reject(err);
      });
      req.on('close', () => client.finish());
      req.on('response', (res) => {
        client.res = res;
        client.status = res.statusCode ?? 0;
        client.headers = res.headers;
        res.setEncoding('utf8');
        res.on('error', () => client.finish());
        res.on('close', () => client.finish());
        if (client.status < 200 || client.status >= 300) {
          res.on('data', (chunk: string) => (client.body += chunk));
          res.on('end', () => {
            clearTimeout(timer);
            try {
              client.json = client.body ? JSON.parse(client.body) : undefined;
            } catch {
              client.json = undefined;
            }
            client.finish();
            resolve(client);
          });
          return;
        }
        clearTimeout(timer);
        res.on('data', (chunk: string) => client.feed(chunk));
        res.on('end', () => client.finish());
        resolve(client);
      });
    });
  }

  /** Events (not comments) parsed as JSON. */
  envelopes(): any[] {
    return this.events.map((e) => JSON.parse(e.data));
  }

  ids(): number[] {
    return this.events.filter((e) => e.id !== undefined).map((e) => Number(e.id));
  }

  get isEnded(): boolean {
    return this.endedAt > 0;
  }

  /** Waits until `cond()` holds (checked on every arrival), or fails after `timeoutMs`. */
  async waitFor(cond: () => boolean, timeoutMs = 10000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`SSE: ${what} not reached within ${timeoutMs} ms (${this.events.length} events, ${this.comments.length} comments, ended=${this.isEnded})`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  waitForEvents(n: number, timeoutMs = 10000): Promise<void> {
    return this.waitFor(() => this.events.length >= n, timeoutMs, `${n} events`);
  }

  /** Stops reading the socket (a client that does not read); `resume()` undoes it. */
  pause(): void {
    this.res?.pause();
    this.res?.socket.pause();
  }

  resume(): void {
    this.res?.socket.resume();
    this.res?.resume();
  }

  /** Closes the connection from the client side; resolves once it is closed. */
  async close(): Promise<void> {
    this.req.destroy();
    await this.ended;
  }

  private finish(): void {
    if (this.endedAt === 0) {
      this.endedAt = Date.now();
      this.resolveEnded();
      this.wake();
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  /** The event stream format (HTML Living Standard §9.2.6), line by line. */
  private feed(chunk: string): void {
    this.pending += chunk;
    const at = Date.now();
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.pending);
      if (!m) {
        break;
      }
      // a lone \r at the very end may be the first half of \r\n: wait for more
      if (m[0] === '\r' && m.index === this.pending.length - 1) {
        break;
      }
      const line = this.pending.slice(0, m.index);
      this.pending = this.pending.slice(m.index + m[0].length);
      this.line(line, at);
    }
    this.wake();
  }

  private line(line: string, at: number): void {
    if (line === '') {
      const c = this.current;
      this.current = { data: [], hasData: false };
      if (c.id !== undefined) {
        this.lastEventId = c.id;
      }
      if (c.hasData) {
        this.events.push({ id: c.id, event: c.event ?? 'message', data: c.data.join('\n'), at });
      }
      return;
    }
    if (line.startsWith(':')) {
      this.comments.push({ text: line.slice(1).trim(), at });
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) {
      value = value.slice(1);
    }
    switch (field) {
      case 'id':
        if (!value.includes('\0')) {
          this.current.id = value;
        }
        break;
      case 'event':
        this.current.event = value;
        break;
      case 'data':
        this.current.data.push(value);
        this.current.hasData = true;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) {
          this.retries.push({ ms: Number(value), at });
        }
        break;
      default:
        break;
    }
  }
}
