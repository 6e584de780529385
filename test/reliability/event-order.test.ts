import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { UnitOfWork } from '../../src/database/unit-of-work';
import { EventsRepository } from '../../src/events/events.repository';
import { REAL_POSTGRES } from '../support/database';
import { sleep } from '../support/raw-http';
import { startTestApp, type TestApp } from '../support/test-app';

const NO_PG = 'needs PostgreSQL (TEST_DATABASE_URL): PGlite runs one transaction at a time, so commits cannot overtake each other there';

/**
 * ALERTING.md §1 "Order without gaps": a reader that follows the log with `after=` must never
 * miss an event because a transaction with a smaller id committed after one with a larger id.
 */
describe('event ids become visible in increasing order', { skip: REAL_POSTGRES ? false : NO_PG }, () => {
  let one: TestApp;
  let two: TestApp;

  before(async () => {
    one = await startTestApp();
    two = await startTestApp({ db: one.db });
  });
  after(async () => {
    await two.close();
    await one.close();
  });

  it('a second event-writing transaction waits until the first commits, and then gets the larger id', async () => {
    const uow = one.app.get(UnitOfWork);
    const repo = one.app.get(EventsRepository);
    let releaseFirst!: () => void;
    const held = new Promise<void>((r) => (releaseFirst = r));
    let firstId = 0;
    const first = uow.run(async (tx) => {
      firstId = (await repo.append('alert.deleted', null, { n: 1 }, tx)).id;
      await held; // the first transaction stays open with its id allocated
    });
    while (firstId === 0) {
      await sleep(5);
    }
    let secondId = 0;
    const second = two.app.get(UnitOfWork).run(async (tx) => {
      secondId = (await two.app.get(EventsRepository).append('alert.deleted', null, { n: 2 }, tx)).id;
    });
    await sleep(300);
    assert.equal(secondId, 0, 'the second append is blocked while the first transaction is open');
    const seen = await repo.findAfter({ after: firstId - 1, limit: 10 });
    assert.deepEqual(seen.map((e) => e.id), [], 'nothing visible yet');
    releaseFirst();
    await Promise.all([first, second]);
    assert.ok(secondId > firstId, `${secondId} > ${firstId}`);
  });

  it('a follower using after= sees every event of 400 concurrent writers on two instances, none skipped', async () => {
    const repos = [one.app.get(EventsRepository), two.app.get(EventsRepository)];
    const uows = [one.app.get(UnitOfWork), two.app.get(UnitOfWork)];
    const start = await repos[0].lastId();
    const N = 400;
    let done = false;
    const seen: number[] = [];
    // the follower has its own connection: the writers keep both pools busy
    const reader = new Client({ connectionString: one.db.url! });
    await reader.connect();
    const follower = (async () => {
      let after = start;
      for (;;) {
        const wasDone = done;
        const page = (await reader.query('SELECT id::int AS id FROM ecoflow_event WHERE id > $1 ORDER BY id LIMIT 500', [after])).rows as { id: number }[];
        for (const e of page) {
          seen.push(e.id);
          after = e.id;
        }
        if (wasDone && page.length === 0) {
          break;
        }
      }
    })();
    const written: number[] = [];
    await Promise.all(
      Array.from({ length: N }, (_, i) =>
        uows[i % 2].run(async (tx) => {
          const e = await repos[i % 2].append('alert.deleted', null, { i }, tx);
          written.push(e.id);
          // vary how long each transaction stays open after taking its id, so commits would overtake
          await sleep((i * 37) % 23);
        }),
      ),
    );
    done = true;
    await follower;
    await reader.end();
    const expected = [...written].sort((a, b) => a - b);
    assert.deepEqual(seen, expected, 'the follower saw exactly the committed ids, ascending, none skipped');
  });
});
