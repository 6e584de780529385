import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { PermissionDeniedError, ValidationError } from '../common/errors';
import { validateBody } from '../common/validation';
import { Role, ROLES, User } from '../users/user.entity';
import { PasswordHasher } from './password-hasher';

export interface RegistrationResult {
  message: 'User registered successfully';
  user: { email: string; role: Role };
}

const REGISTER_SCHEMA = {
  email: { kind: 'email', max: 254, required: true },
  password: { kind: 'password', min: 8, max: 128, required: true },
  first_name: { kind: 'string', max: 150, allowBlank: true, default: '' },
  last_name: { kind: 'string', max: 150, allowBlank: true, default: '' },
  role: { kind: 'choice', choices: ROLES, default: 'USER' },
} as const;

// Arbitrary fixed key (distinct from the migration lock): serializes registrations so that
// "is this the first account?" has exactly one winner across instances.
const REGISTRATION_LOCK_KEY = 742_019_311;
const EMAIL_TAKEN = 'user with this email already exists.';

/** Self-registration (spec §4.2): the first account becomes ADMIN; later ADMINs need an ADMIN caller. */
@Injectable()
export class RegistrationService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly hasher: PasswordHasher,
  ) {}

  /** `caller` is the already-authenticated user of a present Authorization header, else null. */
  async register(body: unknown, caller: User | null): Promise<RegistrationResult> {
    const input = await this.validate(body);
    const passwordHash = await this.hasher.hash(input.password);
    return this.ds.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [REGISTRATION_LOCK_KEY]);
      const [{ any_user: anyUser }] = (await m.query('SELECT EXISTS (SELECT 1 FROM lims_user) AS any_user')) as { any_user: boolean }[];
      if (await this.emailTaken(m.query.bind(m), input.email)) {
        throw ValidationError.field('email', EMAIL_TAKEN);
      }
      let role: Role = input.role;
      if (!anyUser) {
        role = 'ADMIN';
      } else if (role === 'ADMIN' && caller?.role !== 'ADMIN') {
        throw new PermissionDeniedError('Only an administrator can create ADMIN accounts.');
      }
      // username is unique and ≤150; a legacy Django username may already equal this email
      let username = input.email.length <= 150 ? input.email : `user-${randomUUID()}`;
      const [clash] = (await m.query('SELECT 1 FROM lims_user WHERE username = $1', [username])) as unknown[];
      if (clash) {
        username = `user-${randomUUID()}`;
      }
      await m.insert(User, {
        password: passwordHash,
        lastLogin: null,
        isSuperuser: false,
        username,
        firstName: input.first_name,
        lastName: input.last_name,
        email: input.email,
        isStaff: false,
        isActive: true,
        dateJoined: new Date(),
        role,
        ecoPoints: 0,
      });
      return { message: 'User registered successfully', user: { email: input.email, role } };
    });
  }

  /** All field errors at once, the uniqueness of a well-formed email included (as DRF reports it). */
  private async validate(body: unknown): Promise<{ email: string; password: string; first_name: string; last_name: string; role: Role }> {
    let errors: Record<string, string[]> = {};
    let parsed: ReturnType<typeof validateBody<typeof REGISTER_SCHEMA>> | null = null;
    try {
      parsed = validateBody(body, REGISTER_SCHEMA, { partial: false });
    } catch (err) {
      if (!(err instanceof ValidationError) || err.fields.non_field_errors) {
        throw err;
      }
      errors = { ...err.fields };
    }
    if (!errors.email) {
      const email = parsed ? String(parsed.email) : String((body as Record<string, unknown>).email).trim().toLowerCase();
      if (await this.emailTaken((sql, params) => this.ds.query(sql, params), email)) {
        errors = { email: [EMAIL_TAKEN], ...errors };
      }
    }
    if (Object.keys(errors).length > 0 || !parsed) {
      throw new ValidationError(errors);
    }
    return {
      email: String(parsed.email),
      password: String(parsed.password),
      first_name: String(parsed.first_name ?? ''),
      last_name: String(parsed.last_name ?? ''),
      role: (parsed.role ?? 'USER') as Role,
    };
  }

  private async emailTaken(query: (sql: string, params: unknown[]) => Promise<unknown>, email: string): Promise<boolean> {
    const rows = (await query('SELECT 1 FROM lims_user WHERE lower(email) = $1', [email])) as unknown[];
    return rows.length > 0;
  }
}
