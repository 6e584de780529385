import { Injectable } from '@nestjs/common';
import { DataSource, type DeepPartial, type EntityManager, type EntityTarget, type FindOptionsWhere, type ObjectLiteral, type Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { mapForeignKeyViolation, type VanishedParentErrors } from '../common/wire';

/**
 * A transaction that spans repositories. Services never see TypeORM: they get a `Tx` and pass it
 * to each repository method that must run inside it; the repositories turn it into their manager.
 *
 *   await this.uow.run(async (tx) => { await this.alerts.insert(x, tx); await this.events.append(y, tx); });
 */
export class Tx {
  private readonly committed: Array<() => void> = [];

  /** @internal for repositories only */
  constructor(readonly manager: EntityManager) {}

  /** Runs `fn` once the transaction has committed (never after a rollback): counters, local wake-ups. */
  onCommit(fn: () => void): void {
    this.committed.push(fn);
  }

  /** @internal UnitOfWork only */
  runCommitHooks(): void {
    for (const fn of this.committed.splice(0)) {
      try {
        fn();
      } catch {
        // a hook is a side effect of a commit that already happened; it never fails the caller
      }
    }
  }
}

@Injectable()
export class UnitOfWork {
  constructor(private readonly ds: DataSource) {}

  async run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    let tx: Tx | undefined;
    const result = await this.ds.transaction((manager) => {
      tx = new Tx(manager);
      return work(tx);
    });
    tx?.runCommitHooks();
    return result;
  }
}

/** Base of every repository: the manager of the caller's transaction, or the pool's. */
export abstract class BaseRepository {
  constructor(protected readonly ds: DataSource) {}

  protected manager(tx?: Tx): EntityManager {
    return tx?.manager ?? this.ds.manager;
  }

  /**
   * The rows of any statement, RETURNING included: `manager.query` answers UPDATE and DELETE with
   * `[rows, count]` on PostgreSQL, so statements whose rows matter go through here.
   */
  protected async rows<T>(sql: string, params: unknown[], tx?: Tx): Promise<T[]> {
    const own = tx?.manager.queryRunner ? null : this.ds.createQueryRunner();
    const runner = own ?? tx!.manager.queryRunner!;
    try {
      return (await runner.query(sql, params, true)).records as T[];
    } finally {
      await own?.release();
    }
  }
}

/**
 * Base of a repository of one table whose primary key is a numeric `id`: the lookups and the
 * delete every such table answers the same way.
 */
export abstract class TableRepository<E extends ObjectLiteral & { id: number }> extends BaseRepository {
  protected abstract readonly entity: EntityTarget<E>;

  protected repo(tx?: Tx): Repository<E> {
    return this.manager(tx).getRepository(this.entity);
  }

  findById(id: number, tx?: Tx): Promise<E | null> {
    return this.repo(tx).findOneBy({ id } as FindOptionsWhere<E>);
  }

  exists(id: number, tx?: Tx): Promise<boolean> {
    return this.repo(tx).existsBy({ id } as FindOptionsWhere<E>);
  }

  /**
   * Inserts a row; a parent deleted after the caller's existence check (foreign-key violation on
   * one of `parents`' columns) becomes that column's answer instead of a 500.
   */
  protected async insertRow(values: DeepPartial<E>, parents: VanishedParentErrors, tx?: Tx): Promise<E> {
    const repo = this.repo(tx);
    try {
      return await repo.save(repo.create(values));
    } catch (err) {
      throw await mapForeignKeyViolation(err, parents);
    }
  }

  /** Updates the row if it exists (no row, no error: the caller's read-back answers 404); parents as in insertRow. */
  protected async updateRow(id: number, patch: QueryDeepPartialEntity<E>, parents: VanishedParentErrors, tx?: Tx): Promise<void> {
    if (!Object.keys(patch).length) {
      return;
    }
    try {
      await this.repo(tx).update(id, patch);
    } catch (err) {
      throw await mapForeignKeyViolation(err, parents);
    }
  }

  /** Deletes the row (children go by ON DELETE CASCADE). False when there was no such row. */
  async delete(id: number, tx?: Tx): Promise<boolean> {
    const res = await this.repo(tx).createQueryBuilder().delete().from(this.entity).where('id = :id', { id }).returning('id').execute();
    return (res.raw as unknown[]).length > 0;
  }
}
