import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { PermissionDeniedError, UnauthenticatedError } from '../common/errors';
import { LOGGER, type AppLogger } from '../common/logger';
import { AppConfig } from '../config/config';
import { User } from '../users/user.entity';
import { RefreshToken } from './refresh-token.entity';
import { TokenClaims, TokenService } from './token.service';

export interface TokenPair {
  access: string;
  refresh: string;
}

const PURGE_INTERVAL_MS = 60 * 60 * 1000;

/** simplejwt's refresh-endpoint body: `{"detail": …, "code": "token_not_valid"}`. */
function tokenNotValid(detail: string): UnauthenticatedError {
  return new UnauthenticatedError(detail, { code: 'token_not_valid' });
}

/** Rows returned by a raw UPDATE … RETURNING; TypeORM gives `[rows, count]` for UPDATE. */
function updatedRows<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
    return result[0] as T[];
  }
  return Array.isArray(result) ? (result as T[]) : [];
}

/**
 * Refresh tokens as families (one per login): each refresh revokes the presented token and issues
 * the next one in the same family; presenting a revoked token means it leaked, so the whole family
 * dies, unless it was rotated less than REFRESH_REUSE_INTERVAL ago (parallel tabs). The revoke is
 * one conditional UPDATE under a per-family lock, so concurrent refreshes with one token yield one
 * rotation, and the interval decision reads the row's `revoked_at`, valid across instances.
 */
@Injectable()
export class RefreshTokens implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log: AppLogger;
  private purgeTimer: NodeJS.Timeout | null = null;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly tokens: TokenService,
    private readonly config: AppConfig,
    @Inject(LOGGER) logger: AppLogger,
  ) {
    this.log = logger.child({ context: 'RefreshTokens' });
  }

  onApplicationBootstrap(): void {
    this.purgeTimer = setInterval(() => void this.purgeExpired(), PURGE_INTERVAL_MS);
    this.purgeTimer.unref();
  }

  onModuleDestroy(): void {
    if (this.purgeTimer) {
      clearInterval(this.purgeTimer);
      this.purgeTimer = null;
    }
  }

  /** A new access/refresh pair starting a new family (login). */
  async startFamily(userId: number): Promise<TokenPair> {
    const refresh = this.tokens.sign('refresh', userId);
    await this.store(this.ds.manager, refresh.claims, randomUUID());
    return { access: this.tokens.sign('access', userId).token, refresh: refresh.token };
  }

  async rotate(token: string): Promise<TokenPair> {
    const verified = this.tokens.verify(token, 'refresh');
    if (!verified.ok) {
      throw tokenNotValid(verified.problem);
    }
    const { jti } = verified.claims;
    const userId = Number(verified.claims.user_id);
    // before the store lookup: a deleted user's rows are gone with it (ON DELETE CASCADE)
    const user = await this.ds.getRepository(User).findOne({ where: { id: userId }, select: { id: true, isActive: true } });
    if (!user || !user.isActive) {
      throw new UnauthenticatedError('No active account found for the given token.');
    }
    const next = this.tokens.sign('refresh', userId);
    const outcome = await this.ds.transaction((m) => this.rotateInFamily(m, jti, userId, next.claims));
    if (outcome === 'unknown') {
      throw tokenNotValid('Token is invalid');
    }
    if (outcome === 'reused') {
      throw tokenNotValid('Token is blacklisted');
    }
    return { access: this.tokens.sign('access', userId).token, refresh: next.token };
  }

  /**
   * Everything that changes a family runs under that family's transaction advisory lock, taken
   * before any row lock (same order everywhere, so no deadlock). Without it a successor inserted
   * by a concurrent rotation could escape a family revocation whose UPDATE snapshot predates it.
   */
  private async rotateInFamily(m: EntityManager, jti: string, userId: number, next: TokenClaims): Promise<'rotated' | 'unknown' | 'reused'> {
    const [row] = (await m.query(`SELECT family_id FROM ecoflow_refresh_token WHERE jti = $1 AND user_id = $2`, [jti, userId])) as {
      family_id: string;
    }[];
    if (!row) {
      return 'unknown';
    }
    const familyId = row.family_id;
    await m.query(`SELECT pg_advisory_xact_lock(hashtextextended('ecoflow_refresh_family:' || $1, 0))`, [familyId]);

    const rotated = updatedRows<{ jti: string }>(
      await m.query(
        `UPDATE ecoflow_refresh_token SET revoked_at = now(), replaced_by = $2
         WHERE jti = $1 AND revoked_at IS NULL RETURNING jti`,
        [jti, next.jti],
      ),
    );
    if (rotated.length === 1) {
      await this.store(m, next, familyId);
      return 'rotated';
    }

    // REFRESH_REUSE_INTERVAL (spec §11): a token *rotated* (not logged out) moments ago, in a family
    // that still has a live token, is a parallel tab or poll, not theft: it gets a sibling token.
    // clock_timestamp(), not now(): the transaction may have waited for the lock.
    const interval = this.config.auth.refreshReuseIntervalSec;
    if (interval > 0) {
      const graced = (await m.query(
        `SELECT 1 FROM ecoflow_refresh_token t
         WHERE t.jti = $1 AND t.replaced_by IS NOT NULL AND t.revoked_at > clock_timestamp() - make_interval(secs => $2)
           AND EXISTS (SELECT 1 FROM ecoflow_refresh_token f WHERE f.family_id = t.family_id AND f.revoked_at IS NULL)`,
        [jti, interval],
      )) as unknown[];
      if (graced.length === 1) {
        await this.store(m, next, familyId);
        return 'rotated';
      }
    }

    // reuse of a revoked token: it leaked, so every token of the family dies
    const revoked = updatedRows<{ jti: string }>(
      await m.query(`UPDATE ecoflow_refresh_token SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL RETURNING jti`, [familyId]),
    );
    this.log.warn({ user_id: userId, family_id: familyId, revoked: revoked.length }, 'refresh token reuse detected; family revoked');
    return 'reused';
  }

  /** Revokes one refresh token of the calling user (logout); idempotent. */
  async revoke(token: string, callerId: number): Promise<void> {
    const verified = this.tokens.verify(token, 'refresh', { ignoreExpiration: true });
    if (!verified.ok) {
      throw tokenNotValid(verified.problem);
    }
    if (Number(verified.claims.user_id) !== callerId) {
      throw new PermissionDeniedError();
    }
    await this.ds.query(`UPDATE ecoflow_refresh_token SET revoked_at = now() WHERE jti = $1 AND revoked_at IS NULL`, [verified.claims.jti]);
  }

  /** Deletes rows past their expiry; an expired token is refused by its signature check anyway. */
  async purgeExpired(): Promise<number> {
    try {
      const result: unknown = await this.ds.query(`DELETE FROM ecoflow_refresh_token WHERE expires_at < now()`);
      const count = Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
      if (count > 0) {
        this.log.info({ count }, 'purged expired refresh tokens');
      }
      return count;
    } catch (err) {
      this.log.warn({ err }, 'refresh token purge failed; retrying at the next interval');
      return 0;
    }
  }

  private async store(m: EntityManager, claims: TokenClaims, familyId: string): Promise<void> {
    await m.insert(RefreshToken, {
      jti: claims.jti,
      userId: Number(claims.user_id),
      familyId,
      issuedAt: new Date(claims.iat * 1000),
      expiresAt: new Date(claims.exp * 1000),
      revokedAt: null,
      replacedBy: null,
    });
  }
}
