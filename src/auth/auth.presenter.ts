import type { Role, User } from '../users/user.entity';
import type { LoginSession } from './auth.service';
import type { TokenPair } from './refresh-tokens.service';

// Domain results → the wire shapes of spec §4.2 (field order as in the spec).

/** POST /auth/login/. */
export interface LoginResult extends TokenPair {
  user_id: number;
  email: string;
  role: Role;
  name: string;
}

/** POST /auth/register/. */
export interface RegistrationResult {
  message: 'User registered successfully';
  user: { email: string; role: Role };
}

export function presentLogin({ user, tokens }: LoginSession): LoginResult {
  return { refresh: tokens.refresh, access: tokens.access, user_id: user.id, email: user.email, role: user.role, name: user.firstName };
}

/** POST /auth/refresh/. */
export function presentTokenPair(tokens: TokenPair): TokenPair {
  return { access: tokens.access, refresh: tokens.refresh };
}

export function presentRegistration(user: User): RegistrationResult {
  return { message: 'User registered successfully', user: { email: user.email, role: user.role } };
}
