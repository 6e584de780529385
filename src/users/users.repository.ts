import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { uniqueViolation } from '../common/wire';
import { BaseRepository, type Tx } from '../database/unit-of-work';
import { User } from './user.entity';
import { emailTakenError } from './users.errors';

/** What registration decides about a new account; the other columns take Django's model defaults. */
export type NewUser = Pick<User, 'password' | 'username' | 'firstName' | 'lastName' | 'email' | 'role'>;

/** The writable profile fields (`/auth/me/`); absent keys are left unchanged. */
export type UserNameChanges = Partial<Pick<User, 'firstName' | 'lastName'>>;

// Arbitrary fixed key (distinct from the migration lock): serializes registrations so that
// "is this the first account?" has exactly one winner across instances.
const REGISTRATION_LOCK_KEY = 742_019_311;

/** Every query of `lims_user`. Emails are compared in lowercase, as the unique index on lower(email) does. */
@Injectable()
export class UsersRepository extends BaseRepository {
  constructor(ds: DataSource) {
    super(ds);
  }

  findById(id: number, tx?: Tx): Promise<User | null> {
    return this.manager(tx).findOneBy(User, { id });
  }

  /** `email` must already be normalized (trimmed, lowercase). */
  findByEmail(email: string, tx?: Tx): Promise<User | null> {
    return this.manager(tx).createQueryBuilder(User, 'u').where('lower(u.email) = :email', { email }).getOne();
  }

  /** False for a missing user too; reads only the flag (every refresh asks). */
  async isActive(id: number, tx?: Tx): Promise<boolean> {
    const user = await this.manager(tx).findOne(User, { where: { id }, select: { id: true, isActive: true } });
    return user?.isActive === true;
  }

  async emailTaken(email: string, tx?: Tx): Promise<boolean> {
    const rows = (await this.manager(tx).query('SELECT 1 FROM lims_user WHERE lower(email) = $1', [email])) as unknown[];
    return rows.length > 0;
  }

  async usernameTaken(username: string, tx: Tx): Promise<boolean> {
    const rows = (await this.manager(tx).query('SELECT 1 FROM lims_user WHERE username = $1', [username])) as unknown[];
    return rows.length > 0;
  }

  /** Held until `tx` ends: registrations run one at a time, so the first-account check has one winner. */
  async lockRegistrations(tx: Tx): Promise<void> {
    await this.manager(tx).query('SELECT pg_advisory_xact_lock($1)', [REGISTRATION_LOCK_KEY]);
  }

  async anyExists(tx: Tx): Promise<boolean> {
    const [row] = (await this.manager(tx).query('SELECT EXISTS (SELECT 1 FROM lims_user) AS any_user')) as { any_user: boolean }[];
    return row.any_user;
  }

  /** A unique violation on the email (a creation that bypassed the registration lock) is the field's 400. */
  async insert(input: NewUser, tx?: Tx): Promise<User> {
    const m = this.manager(tx);
    const user = m.create(User, {
      ...input,
      lastLogin: null,
      isSuperuser: false,
      isStaff: false,
      isActive: true,
      dateJoined: new Date(),
      ecoPoints: 0,
    });
    try {
      await m.insert(User, user); // NumericIdSubscriber sets user.id as a number
    } catch (err) {
      if (uniqueViolation(err)?.includes('email')) {
        throw emailTakenError();
      }
      throw err;
    }
    return user;
  }

  async updateNames(id: number, changes: UserNameChanges, tx?: Tx): Promise<void> {
    if (Object.keys(changes).length > 0) {
      await this.manager(tx).update(User, { id }, changes);
    }
  }

  async setPasswordHash(id: number, hash: string, tx?: Tx): Promise<void> {
    await this.manager(tx).update(User, { id }, { password: hash });
  }

  async recordLogin(id: number, at: Date, tx?: Tx): Promise<void> {
    await this.manager(tx).update(User, { id }, { lastLogin: at });
  }
}
