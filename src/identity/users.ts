import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database.js';
import { AppError } from '../errors.js';
import { hashPassword } from './passwords.js';
import { ROLE_SCOPES, type Role, type Scope } from './scopes.js';

interface UserRow {
  id: string;
  email: string;
  password_hash: string;
  role: Role;
  disabled: number;
  rate_limit_per_minute: number | null;
  daily_quota: number | null;
  created_at: number;
  password_changed_at: number;
}

/** A user as the API shows it: never the password hash. */
export interface User {
  id: string;
  email: string;
  role: Role;
  scopes: readonly Scope[];
  disabled: boolean;
  limits: { ratePerMinute: number | null; dailyQuota: number | null };
  createdAt: string;
}

/** What the credential checks need beyond the public view. */
export interface UserAuth extends User {
  passwordHash: string;
  passwordChangedAt: number;
}

const view = (r: UserRow): UserAuth => ({
  id: r.id,
  email: r.email,
  role: r.role,
  scopes: ROLE_SCOPES[r.role],
  disabled: r.disabled === 1,
  limits: { ratePerMinute: r.rate_limit_per_minute, dailyQuota: r.daily_quota },
  createdAt: new Date(r.created_at).toISOString(),
  passwordHash: r.password_hash,
  passwordChangedAt: r.password_changed_at,
});

export const publicUser = ({ passwordHash: _h, passwordChangedAt: _c, ...user }: UserAuth): User => user;

export interface UserPatch {
  role?: Role;
  disabled?: boolean;
  ratePerMinute?: number | null;
  dailyQuota?: number | null;
}

export class UserStore {
  constructor(private readonly db: Db, private readonly now: () => number = Date.now) {}

  async create(input: { email: string; password: string; role: Role }): Promise<UserAuth> {
    const passwordHash = await hashPassword(input.password);
    const id = randomUUID();
    const at = this.now();
    try {
      this.db.prepare(`INSERT INTO users (id, email, password_hash, role, created_at, password_changed_at) VALUES (?, ?, ?, ?, ?, ?)`)
        .run(id, input.email, passwordHash, input.role, at, at);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new AppError('CONFLICT', 'An account with this email exists already.', { details: { field: 'email' } });
      throw err;
    }
    return this.get(id)!;
  }

  get(id: string): UserAuth | undefined {
    const row = this.db.prepare('SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
    return row && view(row);
  }

  byEmail(email: string): UserAuth | undefined {
    const row = this.db.prepare('SELECT * FROM users WHERE email = ?').get(email) as UserRow | undefined;
    return row && view(row);
  }

  count(): number {
    return this.db.prepare('SELECT COUNT(*) FROM users').pluck().get() as number;
  }

  list(page: { limit: number; offset: number }): { users: User[]; total: number } {
    const rows = this.db.prepare('SELECT * FROM users ORDER BY created_at, id LIMIT ? OFFSET ?').all(page.limit, page.offset) as UserRow[];
    return { users: rows.map((r) => publicUser(view(r))), total: this.count() };
  }

  update(id: string, patch: UserPatch): UserAuth | undefined {
    const sets: string[] = [];
    const values: unknown[] = [];
    const add = (column: string, value: unknown) => {
      sets.push(`${column} = ?`);
      values.push(value);
    };
    if (patch.role !== undefined) add('role', patch.role);
    if (patch.disabled !== undefined) add('disabled', patch.disabled ? 1 : 0);
    if (patch.ratePerMinute !== undefined) add('rate_limit_per_minute', patch.ratePerMinute);
    if (patch.dailyQuota !== undefined) add('daily_quota', patch.dailyQuota);
    if (sets.length) this.db.prepare(`UPDATE users SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
    return this.get(id);
  }

  async setPassword(id: string, password: string): Promise<void> {
    this.db.prepare('UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?').run(await hashPassword(password), this.now(), id);
  }
}
