/**
 * True when an error means "the database cannot be reached right now" (pool timeout,
 * refused or dropped connection, server shutting down), as opposed to a bug in a query.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string; driverError?: unknown } | null;
  if (!e || typeof e !== 'object') {
    return false;
  }
  if (e.driverError && e.driverError !== err && isDatabaseUnavailable(e.driverError)) {
    return true;
  }
  const code = e.code ?? '';
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EHOSTUNREACH', '57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08006'].includes(code)) {
    return true;
  }
  const msg = e.message ?? '';
  // `Query read timeout`: pg's query_timeout, no answer at all (network partition); it was a 500.
  // `Client was closed and is not queryable`: a follow-up query on a connection discarded after it.
  return /timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error|terminating connection|the database system is (starting up|shutting down)|Query read timeout|Client was closed and is not queryable/i.test(
    msg,
  );
}
