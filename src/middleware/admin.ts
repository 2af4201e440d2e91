import type { RequestHandler } from 'express';
import { AppError } from '../errors.js';
import { sameSecret } from './auth.js';

/**
 * Admin routes (model load/unload) need ADMIN_API_KEY in X-Admin-Key when it is set; without it
 * they are as open as the rest of the API (a single-user install).
 */
export function adminOnly(adminKey: string | undefined): RequestHandler {
  return (req, _res, next) => {
    if (!adminKey) return next();
    const given = req.get('x-admin-key');
    if (given && sameSecret(given, adminKey)) return next();
    next(new AppError('FORBIDDEN', 'This route needs the admin key: send X-Admin-Key: <ADMIN_API_KEY>.'));
  };
}
