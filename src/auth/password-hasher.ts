import { Injectable } from '@nestjs/common';
import { Algorithm, hash, verify } from '@node-rs/argon2';
import { pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/** OWASP's minimum argon2id profile; stored hashes below it are upgraded on the next login. */
export const ARGON2_PARAMS = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

/**
 * A real argon2id hash of a throw-away password, verified when the email is unknown so that
 * "no such user" costs the same time as "wrong password".
 */
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$7TRod71BpcKG8VnrrQlXGQ$L9VB1UYMbgjyg2Lh7qpYZ/GFlXHoncQwJou7iMp3MD0';

// Django's format: pbkdf2_sha256$<iterations>$<salt>$<base64 of the 32-byte key>
const DJANGO_PBKDF2 = /^pbkdf2_sha256\$([0-9]{1,9})\$([^$]+)\$([A-Za-z0-9+/]+={0,2})$/;
const ARGON2ID = /^\$argon2id\$v=19\$m=([0-9]+),t=([0-9]+),p=([0-9]+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

export interface VerifyOutcome {
  ok: boolean;
  /** true when the password matched a legacy or weaker hash that should be replaced */
  needsRehash: boolean;
}

/**
 * Password hashing: argon2id (PHC) for new hashes; Django's PBKDF2 hashes still verify.
 * Both run off the event loop (libuv / napi worker threads).
 */
@Injectable()
export class PasswordHasher {
  hash(password: string): Promise<string> {
    return hash(password, ARGON2_PARAMS);
  }

  async verify(password: string, stored: string): Promise<VerifyOutcome> {
    const argon = ARGON2ID.exec(stored);
    if (argon) {
      const ok = await verify(stored, password).catch(() => false);
      const weaker = Number(argon[1]) < ARGON2_PARAMS.memoryCost || Number(argon[2]) < ARGON2_PARAMS.timeCost;
      return { ok, needsRehash: ok && weaker };
    }
    const legacy = DJANGO_PBKDF2.exec(stored);
    if (legacy) {
      const ok = await verifyDjangoPbkdf2(password, Number(legacy[1]), legacy[2], legacy[3]);
      return { ok, needsRehash: ok };
    }
    // "!"-prefixed (Django's unusable password) and unknown formats never match, but cost a hash
    await this.burn(password);
    return { ok: false, needsRehash: false };
  }

  /** Spends one argon2 verification so that a missing account is not faster than a wrong password. */
  async burn(password: string): Promise<void> {
    await verify(DUMMY_HASH, password).catch(() => false);
  }
}

async function verifyDjangoPbkdf2(password: string, iterations: number, salt: string, b64: string): Promise<boolean> {
  const expected = Buffer.from(b64, 'base64');
  if (iterations < 1 || expected.length !== 32) {
    return false;
  }
  const actual = await pbkdf2Async(Buffer.from(password, 'utf8'), Buffer.from(salt, 'utf8'), iterations, 32, 'sha256');
  return timingSafeEqual(actual, expected);
}
