import { Injectable } from '@nestjs/common';
import type { UpdateProfileInput } from './dto/profile.input';
import { User } from './user.entity';
import { UsersRepository } from './users.repository';

/** The signed-in user's own profile (`/auth/me/`). */
@Injectable()
export class UsersService {
  constructor(private readonly users: UsersRepository) {}

  async updateProfile(user: User, input: UpdateProfileInput): Promise<User> {
    await this.users.updateNames(user.id, input);
    // the guard's copy predates the write; a user deleted meanwhile still gets an answer
    return (await this.users.findById(user.id)) ?? Object.assign(user, input);
  }
}
