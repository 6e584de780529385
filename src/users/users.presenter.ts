import type { Role, User } from './user.entity';

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

export function presentUser(u: User): UserView {
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
