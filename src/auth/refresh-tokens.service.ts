import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { PermissionDeniedError, UnauthenticatedError } from '../common/errors';
import { LOGGER, type AppLogger } from '../common/logger';
import { AppConfig } from '../config/config';
import { Tx, UnitOfWork } from '../database/unit-of-work';
import { UsersRepository } from '../users/users.repository';
import { NewRefreshToken, RefreshTokensRepository } from './refresh-tokens.repository';
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

// a user deleted between the check and the insert: the same 401 as a missing user
const noAccountForLogin = (): UnauthenticatedError => new UnauthenticatedError('No active account found with the given credentials');
const noAccountForToken = (): UnauthenticatedError => new UnauthenticatedError('No active account found for the given token.');

/** The stored row of a freshly signed refresh token. */
function issued(claims: TokenClaims, userId: number, familyId: string): NewRefreshToken {
  return { jti: claims.jti, userId, familyId, issuedAt: new Date(claims.iat * 1000), expiresAt: new Date(claims.exp * 1000) };
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
    private readonly store: RefreshTokensRepository,
    private readonly users: UsersRepository,
    private readonly uow: UnitOfWork,
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
    await this.store.insert(issued(refresh.claims, userId, randomUUID()), noAccountForLogin);
    return { access: this.tokens.sign('access', userId).token, refresh: refresh.token };
  }

  async rotate(token: string): Promise<TokenPair> {
    const verified = this.tokens.verify(token, 'refresh');
    if (!verified.ok) {
      throw tokenNotValid(verified.problem);
    }
    const { userId } = verified;
    const { jti } = verified.claims;
    // before the store lookup: a deleted user's rows are gone with it (ON DELETE CASCADE)
    if (!(await this.users.isActive(userId))) {
      throw noAccountForToken();
    }
    const next = this.tokens.sign('refresh', userId);
    const outcome = await this.uow.run((tx) => this.rotateInFamily(tx, jti, userId, next.claims));
    if (outcome === 'unknown') {
      throw tokenNotValid('Token is invalid');
    }
    if (outcome === 'reused') {
      throw tokenNotValid('Token is blacklisted');
    }
    return { access: this.tokens.sign('access', userId).token, refresh: next.token };
  }

  /**
   * Everything that changes a family runs under that family's transaction advisory lock. Without
   * it a successor inserted by a concurrent rotation could escape a family revocation whose UPDATE
   * snapshot predates it.
   */
  private async rotateInFamily(tx: Tx, jti: string, userId: number, next: TokenClaims): Promise<'rotated' | 'unknown' | 'reused'> {
    const familyId = await this.store.familyOf(jti, userId, tx);
    if (familyId === null) {
      return 'unknown';
    }
    await this.store.lockFamily(familyId, tx);

    if (await this.store.revokeIfLive(jti, next.jti, tx)) {
      await this.store.insert(issued(next, userId, familyId), noAccountForToken, tx);
      return 'rotated';
    }

    // REFRESH_REUSE_INTERVAL (spec §11): a token *rotated* (not logged out) moments ago, in a family
    // that still has a live token, is a parallel tab or poll, not theft: it gets a sibling token.
    const interval = this.config.auth.refreshReuseIntervalSec;
    if (interval > 0 && (await this.store.rotatedWithin(jti, interval, tx))) {
      await this.store.insert(issued(next, userId, familyId), noAccountForToken, tx);
      return 'rotated';
    }

    // reuse of a revoked token: it leaked, so every token of the family dies
    const revoked = await this.store.revokeFamily(familyId, tx);
    this.log.warn({ user_id: userId, family_id: familyId, revoked }, 'refresh token reuse detected; family revoked');
    return 'reused';
  }

  /** Revokes one refresh token of the calling user (logout); idempotent. */
  async revoke(token: string, callerId: number): Promise<void> {
    const verified = this.tokens.verify(token, 'refresh', { ignoreExpiration: true });
    if (!verified.ok) {
      throw tokenNotValid(verified.problem);
    }
    if (verified.userId !== callerId) {
      throw new PermissionDeniedError();
    }
    await this.store.revoke(verified.claims.jti);
  }

  /** Deletes rows past their expiry; an expired token is refused by its signature check anyway. */
  async purgeExpired(): Promise<number> {
    try {
      const count = await this.store.deleteExpired();
      if (count > 0) {
        this.log.info({ count }, 'purged expired refresh tokens');
      }
      return count;
    } catch (err) {
      this.log.warn({ err }, 'refresh token purge failed; retrying at the next interval');
      return 0;
    }
  }
}
