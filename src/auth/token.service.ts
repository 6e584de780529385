import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { createSecretKey, KeyObject, randomBytes } from 'node:crypto';
import { AppConfig } from '../config/config';

export type TokenType = 'access' | 'refresh';

export interface TokenClaims {
  token_type: TokenType;
  exp: number;
  iat: number;
  jti: string;
  /** a string, as simplejwt issued it */
  user_id: string;
}

/** Why a token was rejected, in simplejwt's words (spec §4.2). */
export type TokenProblem = 'Token is invalid' | 'Token is expired' | 'Token has wrong type';

/** `userId` is `claims.user_id` as a number: the one place that reads the string claim. */
export type VerifyResult = { ok: true; claims: TokenClaims; userId: number } | { ok: false; problem: TokenProblem };

/**
 * Header parameters that ask the verifier to fetch or trust a key, or to understand extensions
 * (RFC 7515 §4.1). This service never issues them and honours none, so their presence means the
 * token was not made here (spec §11).
 */
const FORBIDDEN_HEADER_PARAMS = ['crit', 'jku', 'jwk', 'x5u', 'x5c'];

/** True when the JOSE header carries a parameter from FORBIDDEN_HEADER_PARAMS. */
function hasForbiddenHeader(token: string): boolean {
  const dot = token.indexOf('.');
  if (dot <= 0) {
    return false; // not a JWT at all: the library rejects it as invalid
  }
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8'));
  } catch {
    return false;
  }
  return typeof header === 'object' && header !== null && FORBIDDEN_HEADER_PARAMS.some((p) => Object.hasOwn(header, p));
}

/** Signs and verifies HS256 JWTs; no aud/iss, no leeway. */
@Injectable()
export class TokenService {
  /**
   * A KeyObject, not the string: given a string, jsonwebtoken first tries (and fails) to parse it
   * as a public key on every verify, which cost ~1 ms of CPU per authenticated request.
   */
  private readonly key: KeyObject;

  constructor(
    private readonly jwt: JwtService,
    private readonly config: AppConfig,
  ) {
    this.key = createSecretKey(Buffer.from(config.auth.jwtSecret, 'utf8'));
  }

  newJti(): string {
    return randomBytes(16).toString('hex');
  }

  sign(type: TokenType, userId: number, jti = this.newJti(), nowSec = Math.floor(Date.now() / 1000)): { token: string; claims: TokenClaims } {
    const ttl = type === 'access' ? this.config.auth.accessTokenTtlSec : this.config.auth.refreshTokenTtlSec;
    const claims: TokenClaims = { token_type: type, exp: nowSec + ttl, iat: nowSec, jti, user_id: String(userId) };
    // no `noTimestamp`: it would strip the spec's `iat`; jsonwebtoken keeps the one given here
    const token = this.jwt.sign(claims, { secret: this.key as unknown as string, algorithm: 'HS256' });
    return { token, claims };
  }

  /** `ignoreExpiration` is for logout only: revoking an expired token is harmless and idempotent. */
  verify(token: string, expected: TokenType, opts: { ignoreExpiration?: boolean } = {}): VerifyResult {
    if (hasForbiddenHeader(token)) {
      return { ok: false, problem: 'Token is invalid' };
    }
    let claims: TokenClaims;
    try {
      // algorithms pinned: alg "none" and RS/ES confusion are rejected by the library
      claims = this.jwt.verify<TokenClaims>(token, {
        secret: this.key as unknown as string,
        algorithms: ['HS256'],
        clockTolerance: 0,
        ignoreExpiration: opts.ignoreExpiration === true,
      });
    } catch (err) {
      const name = (err as { name?: string }).name;
      return { ok: false, problem: name === 'TokenExpiredError' ? 'Token is expired' : 'Token is invalid' };
    }
    if (
      typeof claims !== 'object' ||
      typeof claims.exp !== 'number' ||
      typeof claims.user_id !== 'string' ||
      !/^[0-9]{1,16}$/.test(claims.user_id) ||
      typeof claims.jti !== 'string'
    ) {
      return { ok: false, problem: 'Token is invalid' };
    }
    if (claims.token_type !== expected) {
      return { ok: false, problem: 'Token has wrong type' };
    }
    return { ok: true, claims, userId: Number(claims.user_id) };
  }
}
