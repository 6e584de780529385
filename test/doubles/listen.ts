import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Connection bookkeeping shared by the upstream doubles. */
export interface Listening {
  url: string;
  /** sockets currently open to the double (keep-alive ones included) */
  openConnections(): number;
  closeIdleConnections(): void;
  /** stops listening and destroys every open socket (hung requests included) */
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (an ephemeral port unless one is given) and tracks the open sockets. */
export async function listenTracked(server: Server, port = 0): Promise<Listening> {
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    openConnections: () => sockets.size,
    closeIdleConnections: () => server.closeIdleConnections(),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) {
          s.destroy();
        }
      }),
  };
}
