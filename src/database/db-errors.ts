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
  return /timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error|terminating connection|the database system is (starting up|shutting down)/i.test(msg);
}
