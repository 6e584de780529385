import assert from 'node:assert/strict';
import { Algorithm, hash } from '@node-rs/argon2';
import { pbkdf2Sync } from 'node:crypto';
import { describe, it } from 'node:test';
import { PasswordHasher } from '../../src/auth/password-hasher';

// test/fixtures/django-schema.sql: "legacy-pass-123", PBKDF2-SHA256, 1000 iterations
const DJANGO_HASH = 'pbkdf2_sha256$1000$legacysalt123$dD5esW+eZ9UN4CuZHijr+FNiz6s8NW8dUTtNtq8Z1nY=';

describe(PasswordHasher.name, () => {
  const sut = new PasswordHasher();

  it('hashes with argon2id at m=19456 KiB, t=2, p=1 in PHC format, salted', async () => {
    const a = await sut.hash('correct horse battery');
    const b = await sut.hash('correct horse battery');
    assert.match(a, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.ok(a.length <= 128, 'fits lims_user.password varchar(128)');
    assert.notEqual(a, b);
    assert.deepEqual(await sut.verify('correct horse battery', a), { ok: true, needsRehash: false });
    assert.deepEqual(await sut.verify('correct horse batterY', a), { ok: false, needsRehash: false });
  });

  it('verifies the Django fixture hash and asks for a rehash', async () => {
    assert.deepEqual(await sut.verify('legacy-pass-123', DJANGO_HASH), { ok: true, needsRehash: true });
    assert.deepEqual(await sut.verify('legacy-pass-124', DJANGO_HASH), { ok: false, needsRehash: false });
  });

  it('reads the salt as UTF-8 and the key as 32 bytes, like Django', async () => {
    const salt = 'sälz€';
    const key = pbkdf2Sync('pässword', Buffer.from(salt, 'utf8'), 1200, 32, 'sha256').toString('base64');
    assert.equal((await sut.verify('pässword', `pbkdf2_sha256$1200$${salt}$${key}`)).ok, true);
    // a truncated key never matches, even as a prefix of the right one
    const short = pbkdf2Sync('pässword', Buffer.from(salt, 'utf8'), 1200, 16, 'sha256').toString('base64');
    assert.equal((await sut.verify('pässword', `pbkdf2_sha256$1200$${salt}$${short}`)).ok, false);
  });

  it('never matches unusable ("!") or unknown formats', async () => {
    for (const stored of [
      `!${DJANGO_HASH}`,
      '!',
      '',
      'legacy-pass-123',
      'pbkdf2_sha1$1000$legacysalt123$dD5esW+eZ9UN4CuZHijr+FNiz6s8NW8dUTtNtq8Z1nY=',
      'md5$legacysalt123$1b2cd0f5f6b1c0b9d2ae3a1a0c9e8b7f',
      'bcrypt_sha256$$2b$12$abcdefghijklmnopqrstuu',
      'pbkdf2_sha256$0$legacysalt123$dD5esW+eZ9UN4CuZHijr+FNiz6s8NW8dUTtNtq8Z1nY=',
      '$argon2i$v=19$m=19456,t=2,p=1$7TRod71BpcKG8VnrrQlXGQ$L9VB1UYMbgjyg2Lh7qpYZ/GFlXHoncQwJou7iMp3MD0',
    ]) {
      assert.deepEqual(await sut.verify('legacy-pass-123', stored), { ok: false, needsRehash: false }, stored);
    }
  });

  it('asks to rehash an argon2id hash weaker than the current profile', async () => {
    const weak = await hash('pw-12345678', { algorithm: Algorithm.Argon2id, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    assert.deepEqual(await sut.verify('pw-12345678', weak), { ok: true, needsRehash: true });
  });

  it('hashes off the event loop: timers keep firing while a hash runs', async () => {
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 1);
    try {
      await Promise.all([sut.hash('a-password-1'), sut.hash('a-password-2'), sut.verify('legacy-pass-123', DJANGO_HASH)]);
    } finally {
      clearInterval(timer);
    }
    assert.ok(ticks > 0, 'the event loop was blocked during hashing');
  });
});
