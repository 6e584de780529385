import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { UnauthenticatedError } from '../common/errors';
import { LOGGER, type AppLogger } from '../common/logger';
import { validateBody } from '../common/validation';
import { Role, User } from '../users/user.entity';
import { LoginThrottle } from './login-throttle';
import { PasswordHasher } from './password-hasher';
import { RefreshTokens, TokenPair } from './refresh-tokens.service';

export interface LoginResult extends TokenPair {
  user_id: number;
  email: string;
  role: Role;
  name: string;
}

// simplejwt's fields: the password is never trimmed
const LOGIN_SCHEMA = {
  email: { kind: 'string', max: 1000, required: true },
  password: { kind: 'password', min: 1, max: 4096, required: true },
} as const;

/** Email/password login (spec §4.2): constant-cost failures, brute-force limit, legacy hash upgrade. */
@Injectable()
export class AuthService {
  private readonly log: AppLogger;

  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly hasher: PasswordHasher,
    private readonly throttle: LoginThrottle,
    private readonly refreshTokens: RefreshTokens,
    @Inject(LOGGER) logger: AppLogger,
  ) {
    this.log = logger.child({ context: 'Auth' });
  }

  async login(body: unknown, clientIp: string): Promise<LoginResult> {
    const input = validateBody(body, LOGIN_SCHEMA, { partial: false });
    const email = String(input.email).trim().toLowerCase();
    const password = String(input.password);
    // reserved before the verification, so racing requests cannot verify more than the limit
    const attempt = await this.throttle.reserve(email, clientIp);

    let user: User | null;
    let ok = false;
    try {
      user = await this.users.createQueryBuilder('u').where('lower(u.email) = :email', { email }).getOne();
      if (user) {
        const outcome = await this.hasher.verify(password, user.password);
        ok = outcome.ok && user.isActive;
        if (ok && outcome.needsRehash) {
          await this.users.update({ id: user.id }, { password: await this.hasher.hash(password) });
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
    await this.users.update({ id: user.id }, { lastLogin: new Date() });
    const pair = await this.refreshTokens.startFamily(user.id);
    return { refresh: pair.refresh, access: pair.access, user_id: user.id, email: user.email, role: user.role, name: user.firstName };
  }
}
