import { createHash, randomBytes, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import { AppError } from '../errors.js';
import type { SigningKeys } from './signing-keys.js';
import type { Role, Scope } from './scopes.js';

/** Clock skew tolerated on exp and nbf. */
const SKEW_S = 30;

export interface AccessClaims {
  sub: string;
  role: Role;
  scopes: Scope[];
  /** Issued at, seconds. */
  iat: number;
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export function unauthorized(message: string): AppError {
  return new AppError('UNAUTHORIZED', message, { headers: { 'WWW-Authenticate': 'Bearer' } });
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  /** Seconds the access token lives. */
  expiresIn: number;
}

interface RefreshRow {
  id: string;
  family: string;
  user_id: string;
  secret_hash: string;
  expires_at: number;
  used_at: number | null;
  revoked_at: number | null;
}

/**
 * Access tokens are JWTs (1 h by default) checked without the database; refresh tokens are opaque
 * `<id>.<secret>` (24 h), stored hashed, single use: each refresh rotates to a new one in the same
 * family, and presenting a used one again (a stolen copy) revokes the whole family.
 */
export class TokenService {
  constructor(
    private readonly db: Db,
    private readonly keys: SigningKeys,
    private readonly config: Pick<Config, 'JWT_ISSUER' | 'JWT_AUDIENCE' | 'ACCESS_TOKEN_TTL' | 'REFRESH_TOKEN_TTL'>,
    private readonly now: () => number = Date.now,
  ) {}

  accessToken(user: { id: string; role: Role; scopes: readonly Scope[] }): string {
    const iat = Math.floor(this.now() / 1000);
    return jwt.sign({ role: user.role, scopes: user.scopes, iat, nbf: iat }, this.keys.signKey, {
      algorithm: this.keys.algorithm,
      keyid: this.keys.kid,
      subject: user.id,
      issuer: this.config.JWT_ISSUER,
      audience: this.config.JWT_AUDIENCE,
      expiresIn: Math.floor(this.config.ACCESS_TOKEN_TTL / 1000),
      jwtid: randomUUID(),
    });
  }

  /** Pins the algorithm (no `none`, no HS256 signed with the RSA public key) and checks iss, aud, exp and nbf. */
  verifyAccess(token: string): AccessClaims {
    let payload: jwt.JwtPayload | string;
    try {
      payload = jwt.verify(token, this.keys.verifyKey, {
        algorithms: [this.keys.algorithm],
        issuer: this.config.JWT_ISSUER,
        audience: this.config.JWT_AUDIENCE,
        clockTolerance: SKEW_S,
        clockTimestamp: Math.floor(this.now() / 1000),
      });
    } catch (err) {
      const reason = err instanceof jwt.TokenExpiredError ? 'has expired: refresh it' : 'is not valid';
      throw unauthorized(`The access token ${reason}.`);
    }
    if (typeof payload === 'string' || typeof payload.sub !== 'string' || !Array.isArray(payload.scopes) || typeof payload.iat !== 'number') {
      throw unauthorized('The access token is not valid.');
    }
    return { sub: payload.sub, role: payload.role as Role, scopes: payload.scopes as Scope[], iat: payload.iat };
  }

  issue(user: { id: string; role: Role; scopes: readonly Scope[] }, family: string = randomUUID()): IssuedTokens {
    const id = randomUUID();
    const secret = randomBytes(32).toString('base64url');
    const at = this.now();
    this.db.prepare('INSERT INTO refresh_tokens (id, family, user_id, secret_hash, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, family, user.id, sha256(secret), at + this.config.REFRESH_TOKEN_TTL, at);
    return { accessToken: this.accessToken(user), refreshToken: `${id}.${secret}`, tokenType: 'Bearer', expiresIn: Math.floor(this.config.ACCESS_TOKEN_TTL / 1000) };
  }

  /** The refresh token's row if it is live; reuse of a rotated token revokes its family. */
  private consume(token: string): RefreshRow {
    const [id, secret] = token.split('.');
    const row = id && secret ? (this.db.prepare('SELECT * FROM refresh_tokens WHERE id = ?').get(id) as RefreshRow | undefined) : undefined;
    if (!row || row.secret_hash !== sha256(secret!)) throw unauthorized('The refresh token is not valid.');
    if (row.revoked_at !== null) throw unauthorized('The refresh token has been revoked: sign in again.');
    if (row.used_at !== null) {
      this.revokeFamily(row.family);
      throw unauthorized('The refresh token was already used: every session of this sign-in is revoked; sign in again.');
    }
    if (row.expires_at <= this.now()) throw unauthorized('The refresh token has expired: sign in again.');
    return row;
  }

  /** Rotates: the presented token is spent, a new pair in the same family comes back. */
  refresh(token: string, load: (userId: string) => { id: string; role: Role; scopes: readonly Scope[] } | undefined): IssuedTokens {
    const row = this.consume(token);
    const spent = this.db.prepare('UPDATE refresh_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL').run(this.now(), row.id);
    if (spent.changes === 0) {
      this.revokeFamily(row.family);
      throw unauthorized('The refresh token was already used: every session of this sign-in is revoked; sign in again.');
    }
    const user = load(row.user_id);
    if (!user) {
      this.revokeFamily(row.family);
      throw unauthorized('This account is disabled or gone.');
    }
    return this.issue(user, row.family);
  }

  /** Logout: the presented token's family ends. */
  revoke(token: string): void {
    const [id] = token.split('.');
    const row = this.db.prepare('SELECT family FROM refresh_tokens WHERE id = ?').get(id ?? '') as { family: string } | undefined;
    if (row) this.revokeFamily(row.family);
  }

  revokeFamily(family: string): void {
    this.db.prepare('UPDATE refresh_tokens SET revoked_at = ? WHERE family = ? AND revoked_at IS NULL').run(this.now(), family);
  }

  revokeUser(userId: string): void {
    this.db.prepare('UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL').run(this.now(), userId);
  }
}
