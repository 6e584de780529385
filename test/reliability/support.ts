import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { REAL_POSTGRES, REAL_REDIS_URL } from '../support/database';
import { scanBody } from '../support/leak-scan';
import { TEST_JWT_SECRET, TestApp, TestResponse } from '../support/test-app';

/** Results of one test file in one mode; render-report.ts turns them into docs/reliability.md. */
export const MODE = REAL_POSTGRES ? (REAL_REDIS_URL ? 'real Postgres + Redis' : 'real Postgres') : 'embedded (PGlite, in-process stores)';
export const RESULTS_DIR = join(__dirname, 'results', REAL_POSTGRES ? 'real' : 'embedded');

/** Row counts of every lims_* table: equal before and after a 4xx means no partial rows. */
export async function countRows(ds: DataSource): Promise<Record<string, number>> {
  const tables = (await ds.query(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name LIKE 'lims\\_%' ORDER BY table_name`,
  )) as { table_name: string }[];
  const out: Record<string, number> = {};
  for (const { table_name: name } of tables) {
    const [row] = (await ds.query(`SELECT count(*)::int AS n FROM "${name}"`)) as { n: number }[];
    out[name] = Number(row.n);
  }
  return out;
}

/** Count and content hash of every lims_* table: equal means nothing was written at all. */
export async function snapshot(ds: DataSource): Promise<string> {
  const tables = Object.keys(await countRows(ds));
  const parts: string[] = [];
  for (const name of tables) {
    const [row] = (await ds.query(`SELECT count(*)::int AS n, coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') AS h FROM "${name}" x`)) as {
      n: number;
      h: string;
    }[];
    parts.push(`${name}:${row.n}:${row.h}`);
  }
  return parts.join(' ');
}

export { scanBody } from '../support/leak-scan';

export interface CategoryStats {
  cases: number;
  passed: number;
  statuses: Record<string, number>;
  fiveXX: number;
  rowsChangedAfter4xx: number;
  /** faults this category injected (upstream and infrastructure suites) */
  faults?: string[];
  /** the 5xx answers are the spec's mapped answer to an injected fault, not failures */
  mapped5xx?: boolean;
  /** slowest request of the category and the budget it had to end within, in ms */
  slowestMs?: number;
  budgetMs?: number;
  /** "nothing lost or duplicated" checks, each with its outcome */
  invariants?: { text: string; ok: boolean }[];
}

/** Collects per-category outcomes and every response body for the leak scan. */
export class Recorder {
  readonly categories: Record<string, CategoryStats> = {};
  responsesScanned = 0;
  readonly leaks: string[] = [];
  unhandledRejections = 0;
  readonly secrets: string[] = [TEST_JWT_SECRET];
  /** request values the API may echo verbatim (stored strings) */
  readonly allowed: string[] = [];

  constructor(private readonly file: string) {}

  cat(name: string): CategoryStats {
    this.categories[name] ??= { cases: 0, passed: 0, statuses: {}, fiveXX: 0, rowsChangedAfter4xx: 0 };
    return this.categories[name];
  }

  /**
   * Declares a fault category: 5xx answers in it are the mapped answer to the fault (checked by
   * the test itself), and `budgetMs` is the time every request of it must end within.
   */
  faultCategory(name: string, faults: string[], budgetMs?: number): CategoryStats {
    const c = this.cat(name);
    c.mapped5xx = true;
    c.faults = [...new Set([...(c.faults ?? []), ...faults])];
    if (budgetMs !== undefined) {
      c.budgetMs = budgetMs;
    }
    return c;
  }

  /** Records how long one request took (the report shows the slowest per category). */
  timing(category: string, ms: number): void {
    const c = this.cat(category);
    c.slowestMs = Math.max(c.slowestMs ?? 0, Math.round(ms));
  }

  /** Records a nothing-lost / nothing-duplicated check and its outcome (the test asserts it too). */
  invariant(category: string, text: string, ok: boolean): void {
    const c = this.cat(category);
    (c.invariants ??= []).push({ text, ok });
  }

  record(category: string, status: number, ok: boolean, rowsChanged = false): void {
    const c = this.cat(category);
    c.cases += 1;
    if (ok) {
      c.passed += 1;
    }
    c.statuses[String(status)] = (c.statuses[String(status)] ?? 0) + 1;
    if (status >= 500) {
      c.fiveXX += 1;
    }
    if (rowsChanged) {
      c.rowsChangedAfter4xx += 1;
    }
  }

  scan(where: string, r: TestResponse): void {
    this.responsesScanned += 1;
    for (const leak of scanBody(r.text, this.secrets, this.allowed)) {
      this.leaks.push(`${where} → ${r.status}: ${leak}`);
    }
  }

  /** Wraps t.request so every response body of the file goes through the scan. */
  instrument(t: TestApp): void {
    const original = t.request.bind(t);
    t.request = async (method, path, opts) => {
      const r = await original(method, path, opts);
      this.scan(`${method} ${path.slice(0, 60)}`, r);
      return r;
    };
  }

  write(): void {
    mkdirSync(RESULTS_DIR, { recursive: true });
    const data = {
      file: this.file,
      mode: MODE,
      at: new Date().toISOString(),
      categories: this.categories,
      responsesScanned: this.responsesScanned,
      leaks: this.leaks,
      unhandledRejections: this.unhandledRejections,
    };
    writeFileSync(join(RESULTS_DIR, `${this.file}.json`), JSON.stringify(data, null, 2));
  }
}
