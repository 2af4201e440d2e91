import { migrate, type Db } from '../db/database.js';

/** Every identity table; each store prepares its statements after this ran. */
export function migrateIdentity(db: Db): void {
  migrate(db, 'identity', [
    {
      version: 1,
      sql: `
        CREATE TABLE users (
          id TEXT PRIMARY KEY,
          email TEXT NOT NULL UNIQUE COLLATE NOCASE,
          password_hash TEXT NOT NULL,
          role TEXT NOT NULL,
          disabled INTEGER NOT NULL DEFAULT 0,
          rate_limit_per_minute INTEGER,
          daily_quota INTEGER,
          created_at INTEGER NOT NULL,
          password_changed_at INTEGER NOT NULL
        );
        CREATE TABLE refresh_tokens (
          id TEXT PRIMARY KEY,
          family TEXT NOT NULL,
          user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
          secret_hash TEXT NOT NULL,
          expires_at INTEGER NOT NULL,
          used_at INTEGER,
          revoked_at INTEGER,
          created_at INTEGER NOT NULL
        );
        CREATE INDEX refresh_tokens_family ON refresh_tokens (family);
        CREATE TABLE api_keys (
          id TEXT PRIMARY KEY,
          user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
          name TEXT NOT NULL,
          prefix TEXT NOT NULL,
          secret_hash TEXT NOT NULL UNIQUE,
          scopes TEXT NOT NULL,
          expires_at INTEGER,
          last_used_at INTEGER,
          revoked_at INTEGER,
          created_at INTEGER NOT NULL
        );
        CREATE INDEX api_keys_user ON api_keys (user_id);
        CREATE TABLE usage_daily (
          owner TEXT NOT NULL,
          day TEXT NOT NULL,
          operation TEXT NOT NULL,
          requests INTEGER NOT NULL DEFAULT 0,
          errors INTEGER NOT NULL DEFAULT 0,
          input_pixels INTEGER NOT NULL DEFAULT 0,
          output_pixels INTEGER NOT NULL DEFAULT 0,
          inference_ms REAL NOT NULL DEFAULT 0,
          PRIMARY KEY (owner, day, operation)
        );`,
    },
  ]);
}
