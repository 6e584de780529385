import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { DomainError } from '../common/errors';
import { mapForeignKeyViolation } from '../common/wire';
import { BaseRepository, type Tx } from '../database/unit-of-work';
import { RefreshToken } from './refresh-token.entity';

/** A token as issued: not revoked, not replaced. */
export type NewRefreshToken = Pick<RefreshToken, 'jti' | 'userId' | 'familyId' | 'issuedAt' | 'expiresAt'>;

/** Rows returned by a raw UPDATE … RETURNING; TypeORM gives `[rows, count]` for UPDATE. */
function updatedRows<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
    return result[0] as T[];
  }
  return Array.isArray(result) ? (result as T[]) : [];
}

/**
 * Every query of `ecoflow_refresh_token`. The family operations take the caller's transaction:
 * the per-family advisory lock only means something while that transaction holds it.
 */
@Injectable()
export class RefreshTokensRepository extends BaseRepository {
  constructor(ds: DataSource) {
    super(ds);
  }

  /** A user deleted meanwhile (its tokens cascade away) becomes `userGone()`, not a 500. */
  async insert(token: NewRefreshToken, userGone: () => DomainError, tx?: Tx): Promise<void> {
    try {
      await this.manager(tx).insert(RefreshToken, { ...token, revokedAt: null, replacedBy: null });
    } catch (err) {
      throw await mapForeignKeyViolation(err, { user_id: userGone });
    }
  }

  /** The family of the user's token `jti`, or null when no such row is stored. */
  async familyOf(jti: string, userId: number, tx: Tx): Promise<string | null> {
    const [row] = (await this.manager(tx).query(`SELECT family_id FROM ecoflow_refresh_token WHERE jti = $1 AND user_id = $2`, [jti, userId])) as {
      family_id: string;
    }[];
    return row ? row.family_id : null;
  }

  /**
   * The family's transaction advisory lock, taken before any row lock (same order everywhere, so
   * no deadlock); held until `tx` ends.
   */
  async lockFamily(familyId: string, tx: Tx): Promise<void> {
    await this.manager(tx).query(`SELECT pg_advisory_xact_lock(hashtextextended('ecoflow_refresh_family:' || $1, 0))`, [familyId]);
  }

  /** The conditional UPDATE of a rotation: true for exactly one of concurrent callers with a live token. */
  async revokeIfLive(jti: string, replacedBy: string, tx: Tx): Promise<boolean> {
    const rotated = updatedRows<{ jti: string }>(
      await this.manager(tx).query(
        `UPDATE ecoflow_refresh_token SET revoked_at = now(), replaced_by = $2
         WHERE jti = $1 AND revoked_at IS NULL RETURNING jti`,
        [jti, replacedBy],
      ),
    );
    return rotated.length === 1;
  }

  /**
   * True when `jti` was rotated (not logged out) less than `seconds` ago and its family still has
   * a live token. clock_timestamp(), not now(): the transaction may have waited for the lock.
   */
  async rotatedWithin(jti: string, seconds: number, tx: Tx): Promise<boolean> {
    const rows = (await this.manager(tx).query(
      `SELECT 1 FROM ecoflow_refresh_token t
       WHERE t.jti = $1 AND t.replaced_by IS NOT NULL AND t.revoked_at > clock_timestamp() - make_interval(secs => $2)
         AND EXISTS (SELECT 1 FROM ecoflow_refresh_token f WHERE f.family_id = t.family_id AND f.revoked_at IS NULL)`,
      [jti, seconds],
    )) as unknown[];
    return rows.length === 1;
  }

  /** Revokes every live token of the family; returns how many. */
  async revokeFamily(familyId: string, tx: Tx): Promise<number> {
    const revoked = updatedRows<{ jti: string }>(
      await this.manager(tx).query(`UPDATE ecoflow_refresh_token SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL RETURNING jti`, [
        familyId,
      ]),
    );
    return revoked.length;
  }

  /** Idempotent: an already revoked or unknown token changes nothing. */
  async revoke(jti: string, tx?: Tx): Promise<void> {
    await this.manager(tx).query(`UPDATE ecoflow_refresh_token SET revoked_at = now() WHERE jti = $1 AND revoked_at IS NULL`, [jti]);
  }

  /** Deletes rows past their expiry; returns how many. */
  async deleteExpired(tx?: Tx): Promise<number> {
    const result: unknown = await this.manager(tx).query(`DELETE FROM ecoflow_refresh_token WHERE expires_at < now()`);
    return Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
  }
}
