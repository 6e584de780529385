import { EventSubscriber, type AfterQueryEvent, type EntitySubscriberInterface } from 'typeorm';

/** pg's client-side `query_timeout` error: no answer from the server at all, not a slow query. */
export const READ_TIMEOUT_MESSAGE = 'Query read timeout';

interface PgClientLike {
  end(): Promise<void>;
}

/**
 * Discards a pooled connection whose query got no answer within `query_timeout` (a network
 * partition, or a server host gone without closing its sockets). pg reports the timeout but keeps
 * the query outstanding on the connection, so without this the pool hands the wedged connection
 * out again and every later request on it waits a full `query_timeout` and fails too, until TCP
 * keep-alive gives up minutes later; the service would not recover when the database came back.
 * `end()` on a client with a query in flight destroys its socket, and the pool then drops it.
 */
@EventSubscriber() // registered only where a DataSource lists it (data-source-options.ts)
export class ReadTimeoutSubscriber implements EntitySubscriberInterface {
  afterQuery(event: AfterQueryEvent<unknown>): void {
    const err = event.error as { message?: string; driverError?: { message?: string } } | undefined;
    if (event.success || !err || (err.message !== READ_TIMEOUT_MESSAGE && err.driverError?.message !== READ_TIMEOUT_MESSAGE)) {
      return;
    }
    // databaseConnection is the checked-out pg client (protected in TypeORM's typings)
    const client = (event.queryRunner as unknown as { databaseConnection?: PgClientLike }).databaseConnection;
    client?.end().catch(() => undefined);
  }
}
