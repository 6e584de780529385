import net from 'node:net';

/**
 * A TCP proxy in front of a real server (PostgreSQL, Redis) that a test can break the way
 * infrastructure breaks, without touching the server itself (other test files share it):
 *
 * - `cut()`: every connection is destroyed and the port stops listening, so new connections are
 *   refused: the server "stopped". `start()` listens again on the same port: "restarted".
 * - `blackhole()`: existing connections are destroyed; new ones are accepted and never forwarded
 *   (a host that accepts but never answers), which only a connect timeout can end.
 * - `stall()`: every connection, old and new, stays open but no byte gets through either way (a
 *   network partition); `forward()` heals it: what was held is delivered and traffic resumes.
 * - `failover()` after `stall()`: the stalled connections stay silent for ever (their host is gone
 *   without closing its sockets) while new connections reach the server (its replacement).
 */
export class TcpProxy {
  port = 0;
  /** connections accepted since start, held ones included */
  accepted = 0;
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private mode: 'forward' | 'blackhole' | 'stall' = 'forward';
  private readonly links = new Set<Link>();

  constructor(private readonly target: { host: string; port: number }) {}

  /** A proxy for the host and port of a `postgres://` or `redis://` URL, and the URL through it. */
  static forUrl(url: string, defaultPort: number): { proxy: TcpProxy; url: () => string } {
    const u = new URL(url);
    const proxy = new TcpProxy({ host: u.hostname, port: Number(u.port || defaultPort) });
    return {
      proxy,
      url: () => {
        const v = new URL(url);
        v.host = `127.0.0.1:${proxy.port}`;
        return v.toString();
      },
    };
  }

  get listening(): boolean {
    return this.server !== null;
  }

  /** Listens (again) on `port`, or on the port it had, or on a free one the first time. */
  async start(port = this.port): Promise<void> {
    this.mode = 'forward';
    const server = net.createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
  }

  /** Destroys every connection and stops listening: new connections are refused. */
  async cut(): Promise<void> {
    this.destroyAll();
    const server = this.server;
    this.server = null;
    if (server) {
      await new Promise<void>((r) => server.close(() => r()));
    }
  }

  /** Destroys every connection; new ones are accepted and never forwarded. */
  blackhole(): void {
    this.destroyAll();
    this.mode = 'blackhole';
  }

  /** Keeps every connection open, new ones included, but forwards nothing until `forward()`. */
  stall(): void {
    this.mode = 'stall';
    for (const l of this.links) {
      if (l.state === 'forward') {
        l.state = 'stalled';
      }
    }
  }

  /** Heals a stall (held bytes delivered in order) or a black hole (held connections dropped). */
  forward(): void {
    if (this.mode === 'blackhole') {
      this.destroyAll(); // their clients gave up on them long ago
    }
    this.mode = 'forward';
    for (const l of this.links) {
      if (l.state === 'stalled') {
        l.state = 'forward';
        const held = l.held.splice(0);
        for (const deliver of held) {
          deliver();
        }
      }
    }
  }

  /** The stalled connections go silent for ever (nothing delivered, never closed); new ones forward. */
  failover(): void {
    this.mode = 'forward';
    for (const l of this.links) {
      if (l.state === 'stalled') {
        l.state = 'dead';
        l.held.length = 0;
      }
    }
  }

  async close(): Promise<void> {
    await this.cut();
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => s.destroy());
  }

  private accept(client: net.Socket): void {
    this.accepted += 1;
    this.track(client);
    if (this.mode === 'blackhole') {
      client.on('data', () => undefined); // read and swallow, never answer
      return;
    }
    const upstream = net.connect(this.target.port, this.target.host);
    this.track(upstream);
    const link: Link = { state: this.mode === 'stall' ? 'stalled' : 'forward', held: [] };
    this.links.add(link);
    const drop = (): void => {
      this.links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', drop);
    upstream.on('close', drop);
    const relay = (from: net.Socket, to: net.Socket): void => {
      from.on('data', (chunk: Buffer) => {
        if (link.state === 'forward') {
          to.write(chunk);
        } else if (link.state === 'stalled') {
          link.held.push(() => to.write(chunk));
        }
        // dead: swallowed
      });
    };
    relay(client, upstream);
    relay(upstream, client);
  }

  private destroyAll(): void {
    for (const s of this.sockets) {
      s.destroy();
    }
    this.links.clear();
  }
}

interface Link {
  state: 'forward' | 'stalled' | 'dead';
  /** bytes received while stalled, delivered in order when the stall heals */
  held: (() => void)[];
}
