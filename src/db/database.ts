import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export type Db = Database.Database;

export interface Migration {
  /** 1, 2, 3… in order; applied once per namespace. */
  version: number;
  sql: string;
}

/**
 * Opens the service database in WAL mode (readers never wait for the writer) with a busy timeout,
 * so the job workers and the HTTP handlers can share it. ':memory:' is accepted for tests.
 */
export function openDatabase(file: string): Db {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    namespace TEXT NOT NULL, version INTEGER NOT NULL, applied_at INTEGER NOT NULL,
    PRIMARY KEY (namespace, version))`);
  return db;
}

/**
 * Applies a module's migrations that are not applied yet, each in its own transaction. Each module
 * (jobs, face gallery, model stats…) owns a namespace, so schemas evolve without a shared list.
 */
export function migrate(db: Db, namespace: string, migrations: readonly Migration[]): void {
  const applied = new Set(
    db.prepare('SELECT version FROM schema_migrations WHERE namespace = ?').pluck().all(namespace) as number[],
  );
  const record = db.prepare('INSERT INTO schema_migrations (namespace, version, applied_at) VALUES (?, ?, ?)');
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(namespace, m.version, Date.now());
    })();
  }
}
