import { Inject, Injectable } from '@nestjs/common';
import { UnauthenticatedError } from '../common/errors';
import { LOGGER, type AppLogger } from '../common/logger';
import type { User } from '../users/user.entity';
import { UsersRepository } from '../users/users.repository';
import type { LoginInput } from './dto/auth.input';
import { LoginThrottle } from './login-throttle';
import { PasswordHasher } from './password-hasher';
import { RefreshTokens, TokenPair } from './refresh-tokens.service';

/** A successful login: who signed in and the first pair of a new token family. */
export interface LoginSession {
  user: User;
  tokens: TokenPair;
}

/** Email/password login (spec §4.2): constant-cost failures, brute-force limit, legacy hash upgrade. */
@Injectable()
export class AuthService {
  private readonly log: AppLogger;

  constructor(
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
    private readonly throttle: LoginThrottle,
    private readonly refreshTokens: RefreshTokens,
    @Inject(LOGGER) logger: AppLogger,
  ) {
    this.log = logger.child({ context: 'Auth' });
  }

  async login({ email, password }: LoginInput, clientIp: string): Promise<LoginSession> {
    // reserved before the verification, so racing requests cannot verify more than the limit
    const attempt = await this.throttle.reserve(email, clientIp);

    let user: User | null;
    let ok = false;
    try {
      user = await this.users.findByEmail(email);
      if (user) {
        const outcome = await this.hasher.verify(password, user.password);
        ok = outcome.ok && user.isActive;
        if (ok && outcome.needsRehash) {
          await this.users.setPasswordHash(user.id, await this.hasher.hash(password));
          this.log.info({ user_id: user.id }, 'password hash upgraded to argon2id');
        }
      } else {
        await this.hasher.burn(password);
      }
    } catch (err) {
      // no verdict (database down): the attempt must not count as a failure
      await attempt.release();
      throw err;
    }
    if (!user || !ok) {
      throw new UnauthenticatedError('No active account found with the given credentials');
    }

    await attempt.succeeded();
    await this.users.recordLogin(user.id, new Date());
    const tokens = await this.refreshTokens.startFamily(user.id);
    return { user, tokens };
  }
}
