import { z } from 'zod';
import { RoleSchema, ScopeSchema } from './scopes.js';

const Email = z.email('expects an email address').max(254).transform((e) => e.toLowerCase());
/** Argon2 hashes any length; the cap keeps a request from buying seconds of CPU. */
const Password = z.string().min(12, 'expects at least 12 characters').max(256, 'expects at most 256 characters');

export const Credentials = z.strictObject({ email: Email, password: z.string().min(1).max(256) });
export const Registration = z.strictObject({ email: Email, password: Password });
export const RefreshBody = z.strictObject({ refreshToken: z.string().min(1).max(512) });
export const PasswordChange = z.strictObject({ currentPassword: z.string().min(1).max(256), newPassword: Password });
export const NewUser = z.strictObject({ email: Email, password: Password, role: RoleSchema.default('user') });
export const UserPatchBody = z.strictObject({
  role: RoleSchema.optional(),
  disabled: z.boolean().optional(),
  ratePerMinute: z.number().int().min(1).max(1_000_000).nullable().optional().describe('Requests per minute for this user; null: RATE_LIMIT_USER_PER_MINUTE.'),
  dailyQuota: z.number().int().min(1).max(100_000_000).nullable().optional().describe('Work requests per UTC day; null: no quota.'),
});
export const NewKey = z.strictObject({
  name: z.string().trim().min(1).max(100),
  scopes: z.array(ScopeSchema).min(1).optional().describe("Default: all of the owner's scopes."),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
});
const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expects YYYY-MM-DD');
export const UsageQuery = z.object({ from: Day.optional(), to: Day.optional(), owner: z.string().max(200).optional() });
export const Page = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
