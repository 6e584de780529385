import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/**
 * A transaction that spans repositories. Services never see TypeORM: they get a `Tx` and pass it
 * to each repository method that must run inside it; the repositories turn it into their manager.
 *
 *   await this.uow.run(async (tx) => { await this.alerts.insert(x, tx); await this.events.append(y, tx); });
 */
export class Tx {
  /** @internal for repositories only */
  constructor(readonly manager: EntityManager) {}
}

@Injectable()
export class UnitOfWork {
  constructor(private readonly ds: DataSource) {}

  run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.ds.transaction((manager) => work(new Tx(manager)));
  }
}

/** Base of every repository: the manager of the caller's transaction, or the pool's. */
export abstract class BaseRepository {
  constructor(protected readonly ds: DataSource) {}

  protected manager(tx?: Tx): EntityManager {
    return tx?.manager ?? this.ds.manager;
  }
}
