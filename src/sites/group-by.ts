/** Rows grouped by a numeric key, each group in the rows' order. */
export function groupBy<T>(rows: T[], key: (row: T) => number): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const r of rows) {
    const k = key(r);
    const list = out.get(k);
    if (list) {
      list.push(r);
    } else {
      out.set(k, [r]);
    }
  }
  return out;
}
