import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { validateBody } from '../common/validation';
import { Role, User } from './user.entity';

/** The User shape of spec §4.1. */
export interface UserView {
  id: number;
  email: string;
  first_name: string;
  last_name: string;
  role: Role;
  eco_points: number;
  full_name: string;
}

const PROFILE_SCHEMA = {
  first_name: { kind: 'string', max: 150, allowBlank: true },
  last_name: { kind: 'string', max: 150, allowBlank: true },
} as const;

export function toUserView(u: User): UserView {
  return {
    id: u.id,
    email: u.email,
    first_name: u.firstName,
    last_name: u.lastName,
    role: u.role,
    eco_points: u.ecoPoints,
    // Django's property: untrimmed concatenation
    full_name: `${u.firstName} ${u.lastName}`,
  };
}

/** The signed-in user's own profile (`/auth/me/`). */
@Injectable()
export class UsersService {
  constructor(@InjectRepository(User) private readonly users: Repository<User>) {}

  /** Only the names are writable here; role, email and is_active are never mass-assigned. */
  async updateProfile(user: User, body: unknown): Promise<UserView> {
    const input = validateBody(body, PROFILE_SCHEMA, { partial: true });
    const changes: Partial<Pick<User, 'firstName' | 'lastName'>> = {};
    if (typeof input.first_name === 'string') {
      changes.firstName = input.first_name;
    }
    if (typeof input.last_name === 'string') {
      changes.lastName = input.last_name;
    }
    if (Object.keys(changes).length > 0) {
      await this.users.update({ id: user.id }, changes);
    }
    const fresh = await this.users.findOneBy({ id: user.id });
    return toUserView(fresh ?? Object.assign(user, changes));
  }
}
