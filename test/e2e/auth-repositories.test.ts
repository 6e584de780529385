import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RefreshTokensRepository } from '../../src/auth/refresh-tokens.repository';
import { UnauthenticatedError, ValidationError } from '../../src/common/errors';
import { UnitOfWork } from '../../src/database/unit-of-work';
import { UsersRepository } from '../../src/users/users.repository';
import { startTestApp, TestApp } from '../support/test-app';

// The repositories' own translations of constraint violations, on the real database: the races
// that reach them (a user deleted mid-login, an account created past the registration lock) are
// too narrow to hit over HTTP.
describe('auth repositories: constraint violations become domain errors', () => {
  let t: TestApp;
  let users: UsersRepository;
  let tokens: RefreshTokensRepository;

  before(async () => {
    t = await startTestApp();
    users = t.app.get(UsersRepository);
    tokens = t.app.get(RefreshTokensRepository);
  });
  after(async () => t.close());

  it('inserts a user with a numeric id, and answers a case-insensitive email clash with the field error', async () => {
    const user = await users.insert({ password: '!unusable', username: 'repo-user@example.com', firstName: 'Ré', lastName: 'Po', email: 'repo-user@example.com', role: 'USER' });
    assert.equal(typeof user.id, 'number');
    assert.equal(user.isActive, true);
    assert.equal((await users.findByEmail('repo-user@example.com'))?.id, user.id);
    await assert.rejects(
      users.insert({ password: '!unusable', username: 'other-name', firstName: '', lastName: '', email: 'REPO-USER@example.com', role: 'USER' }),
      (err: unknown) => err instanceof ValidationError && JSON.stringify(err.fields) === JSON.stringify({ email: ['user with this email already exists.'] }),
    );
  });

  it('answers a refresh token stored for a vanished user with the caller-chosen error, inside and outside a transaction', async () => {
    const gone = await t.createUser({ email: 'repo-gone@example.com' });
    await t.ds.query('DELETE FROM lims_user WHERE id = $1', [gone.id]);
    const token = (jti: string) => ({ jti, userId: gone.id, familyId: '3b241101-e2bb-4255-8caf-4136c566a962', issuedAt: new Date(), expiresAt: new Date(Date.now() + 60_000) });
    const userGone = () => new UnauthenticatedError('No active account found for the given token.');
    await assert.rejects(tokens.insert(token('a'.repeat(32)), userGone), UnauthenticatedError);
    await assert.rejects(
      t.app.get(UnitOfWork).run((tx) => tokens.insert(token('b'.repeat(32)), userGone, tx)),
      UnauthenticatedError,
    );
    assert.equal((await t.ds.query('SELECT 1 FROM ecoflow_refresh_token WHERE user_id = $1', [gone.id])).length, 0);
  });
});
