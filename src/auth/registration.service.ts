import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { PermissionDeniedError } from '../common/errors';
import { UnitOfWork } from '../database/unit-of-work';
import type { Role, User } from '../users/user.entity';
import { emailTakenError } from '../users/users.errors';
import { UsersRepository } from '../users/users.repository';
import type { RegisterInput } from './dto/auth.input';
import { PasswordHasher } from './password-hasher';

/** Self-registration (spec §4.2): the first account becomes ADMIN; later ADMINs need an ADMIN caller. */
@Injectable()
export class RegistrationService {
  constructor(
    private readonly users: UsersRepository,
    private readonly uow: UnitOfWork,
    private readonly hasher: PasswordHasher,
  ) {}

  /** The uniqueness check of the body's field validation (it reports with the other field errors). */
  isEmailTaken(email: string): Promise<boolean> {
    return this.users.emailTaken(email);
  }

  /**
   * `input` is field-validated, so the 403 for ADMIN comes after any 400; `caller` is the
   * already-authenticated user of a present Authorization header, else null.
   */
  async register(input: RegisterInput, caller: User | null): Promise<User> {
    const passwordHash = await this.hasher.hash(input.password);
    return this.uow.run(async (tx) => {
      // one registration at a time across instances, so "is this the first account?" has one winner
      await this.users.lockRegistrations(tx);
      const anyUser = await this.users.anyExists(tx);
      if (await this.users.emailTaken(input.email, tx)) {
        throw emailTakenError();
      }
      let role: Role = input.role;
      if (!anyUser) {
        role = 'ADMIN';
      } else if (role === 'ADMIN' && caller?.role !== 'ADMIN') {
        throw new PermissionDeniedError('Only an administrator can create ADMIN accounts.');
      }
      // username is unique and ≤150; a legacy Django username may already equal this email
      let username = input.email.length <= 150 ? input.email : `user-${randomUUID()}`;
      if (await this.users.usernameTaken(username, tx)) {
        username = `user-${randomUUID()}`;
      }
      return this.users.insert({ password: passwordHash, username, firstName: input.firstName, lastName: input.lastName, email: input.email, role }, tx);
    });
  }
}
