import { randomBytes, randomUUID } from 'node:crypto';
import type { Db } from '../db/database.js';
import type { Scope } from './scopes.js';
import { sha256 } from './tokens.js';

interface KeyRow {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  scopes: string;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
  created_at: number;
}

export interface ApiKeyView {
  id: string;
  name: string;
  /** The key's first characters, to tell keys apart; the secret itself is shown once, at creation. */
  prefix: string;
  scopes: Scope[];
  expiresAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const view = (r: KeyRow): ApiKeyView => ({
  id: r.id, name: r.name, prefix: r.prefix, scopes: JSON.parse(r.scopes) as Scope[],
  expiresAt: iso(r.expires_at), lastUsedAt: iso(r.last_used_at), createdAt: iso(r.created_at)!,
});

/** Secrets look like `ffk_<32 random bytes, base64url>`: recognisable in a leak scanner, 256 bits of entropy. */
export const KEY_PREFIX = 'ffk_';
const LAST_USED_RESOLUTION_MS = 60_000;
export const looksLikeApiKey = (token: string) => token.startsWith(KEY_PREFIX);

/**
 * Per-user API keys, stored as sha256 of the secret: the secrets are random, so a fast hash is
 * enough, and every request can check one without Argon2's cost.
 */
export class ApiKeyStore {
  constructor(private readonly db: Db, private readonly now: () => number = Date.now) {}

  create(userId: string, input: { name: string; scopes: Scope[]; expiresAt?: number }): { key: ApiKeyView; secret: string } {
    const secret = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
    const id = randomUUID();
    this.db.prepare('INSERT INTO api_keys (id, user_id, name, prefix, secret_hash, scopes, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(id, userId, input.name, secret.slice(0, 12), sha256(secret), JSON.stringify(input.scopes), input.expiresAt ?? null, this.now());
    return { key: this.get(userId, id)!, secret };
  }

  get(userId: string, id: string): ApiKeyView | undefined {
    const row = this.db.prepare('SELECT * FROM api_keys WHERE id = ? AND user_id = ? AND revoked_at IS NULL').get(id, userId) as KeyRow | undefined;
    return row && view(row);
  }

  list(userId: string): ApiKeyView[] {
    return (this.db.prepare('SELECT * FROM api_keys WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at, id').all(userId) as KeyRow[]).map(view);
  }

  revoke(userId: string, id: string): boolean {
    return this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL').run(this.now(), id, userId).changes > 0;
  }

  /** The live key behind a secret (not revoked, not expired), its last use stamped (to the minute). */
  authenticate(secret: string): { userId: string; scopes: Scope[]; keyId: string } | { problem: 'expired' | 'unknown' } {
    const row = this.db.prepare('SELECT * FROM api_keys WHERE secret_hash = ? AND revoked_at IS NULL').get(sha256(secret)) as KeyRow | undefined;
    if (!row) return { problem: 'unknown' };
    if (row.expires_at !== null && row.expires_at <= this.now()) return { problem: 'expired' };
    // A write per request would serialise every keyed request on SQLite's writer: a minute is fine-grained enough.
    if (row.last_used_at === null || this.now() - row.last_used_at > LAST_USED_RESOLUTION_MS) {
      this.db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?').run(this.now(), row.id);
    }
    return { userId: row.user_id, scopes: JSON.parse(row.scopes) as Scope[], keyId: row.id };
  }
}
