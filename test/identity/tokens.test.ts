import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import jwt from 'jsonwebtoken';
import { postJson } from '../kit/app.js';
import { ADMIN, api, login, startIdentityApp, userWith, type IdentityApp, type Session } from './kit.js';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('AUTH_MODE=users: sessions and tokens', () => {
  let app: IdentityApp;
  let admin: Session;
  let privateKey: string;
  let publicKey: string;
  before(async () => {
    app = await startIdentityApp();
    admin = await login(app, ADMIN.email, ADMIN.password);
    privateKey = fs.readFileSync(path.join(app.dataDir, 'jwt-private.pem'), 'utf8');
    publicKey = fs.readFileSync(path.join(app.dataDir, 'jwt-public.pem'), 'utf8');
  });
  after(() => app.close());

  const me = (token: string) => api(app, 'GET', '/api/v1/auth/me', token);
  const rejected = async (token: string, why: string) => {
    const res = await me(token);
    assert.equal(res.status, 401, `${why}: ${res.status}`);
    assert.equal(res.body.error?.code, 'UNAUTHORIZED', why);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer');
  };

  test('the bootstrap admin signs in: Bearer tokens, 1 h access, RS256 with the key in DATA_DIR (0600) and on the JWKS', async () => {
    assert.equal(admin.tokenType, 'Bearer');
    assert.equal(admin.expiresIn, 3600);
    const header = JSON.parse(Buffer.from(admin.accessToken.split('.')[0]!, 'base64url').toString()) as { alg: string; kid: string };
    assert.equal(header.alg, 'RS256');
    assert.equal(fs.statSync(path.join(app.dataDir, 'jwt-private.pem')).mode & 0o777, 0o600);
    const jwks = (await (await fetch(`${app.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string; kty: string; n: string }[] };
    assert.equal(jwks.keys[0]?.kty, 'RSA');
    assert.equal(jwks.keys[0]?.kid, header.kid);
    const claims = jwt.verify(admin.accessToken, publicKey, { algorithms: ['RS256'] }) as jwt.JwtPayload;
    assert.deepEqual([claims.iss, claims.aud, claims.role], ['fotofun-ai-service', 'fotofun-ai-service', 'admin']);
    const who = await me(admin.accessToken);
    assert.equal(who.body.result.user.email, ADMIN.email);
    assert.equal(who.body.result.user.passwordHash, undefined);
  });

  test('no credential is 401; a route without its scope is 403 naming it', async () => {
    const none = await api(app, 'GET', '/api/v1/jobs', undefined);
    assert.equal(none.status, 401);
    const svc = await userWith(app, admin, 'svc@example.test', 'service');
    const forbidden = await api(app, 'GET', '/api/v1/admin/users', svc.accessToken);
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body.error?.code, 'FORBIDDEN');
    assert.equal(forbidden.body.error?.details.missingScope, 'users:admin');
    assert.match(forbidden.body.error!.message, /"users:admin" scope/);
  });

  test('forged tokens are refused: alg none, RS256 re-signed as HS256 with the public key, a tampered payload', async () => {
    const [h, p, s] = admin.accessToken.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    await rejected(`${b64({ alg: 'none', typ: 'JWT' })}.${p}.`, 'alg none');
    const hmac = (await import('node:crypto')).createHmac('sha256', publicKey).update(`${b64({ alg: 'HS256', typ: 'JWT' })}.${p}`).digest('base64url');
    await rejected(`${b64({ alg: 'HS256', typ: 'JWT' })}.${p}.${hmac}`, 'HS256 with the public key as the secret');
    await rejected(`${h}.${b64({ ...payload, role: 'admin', scopes: ['users:admin'], sub: 'someone-else' })}.${s}`, 'tampered payload');
    await rejected(`${h}.${p}.${s.slice(0, -4)}AAAA`, 'bad signature');
  });

  test('expired, not-yet-valid and wrong-audience tokens signed with the real key are refused', async () => {
    const sub = (jwt.decode(admin.accessToken) as jwt.JwtPayload).sub!;
    const sign = (claims: object, opts: jwt.SignOptions) => jwt.sign({ role: 'admin', scopes: ['tasks'], ...claims }, privateKey, { algorithm: 'RS256', subject: sub, issuer: 'fotofun-ai-service', audience: 'fotofun-ai-service', ...opts });
    const now = Math.floor(Date.now() / 1000);
    await rejected(sign({ iat: now - 7200 }, { expiresIn: 60 }), 'expired');
    const expired = await me(sign({ iat: now - 7200 }, { expiresIn: 60 }));
    assert.match(expired.body.error!.message, /expired/);
    await rejected(sign({ iat: now, nbf: now + 600 }, { expiresIn: 3600 }), 'not before');
    await rejected(jwt.sign({ role: 'admin', scopes: ['tasks'] }, privateKey, { algorithm: 'RS256', subject: sub, issuer: 'fotofun-ai-service', audience: 'someone-else', expiresIn: 60 }), 'wrong audience');
    await rejected(jwt.sign({ role: 'admin', scopes: ['tasks'] }, privateKey, { algorithm: 'RS256', subject: sub, issuer: 'evil', audience: 'fotofun-ai-service', expiresIn: 60 }), 'wrong issuer');
    assert.equal((await me(sign({ iat: now }, { expiresIn: 60 }))).status, 200, 'the same token with good claims passes');
  });

  test('refresh rotates; reusing a rotated refresh token revokes the whole family', async () => {
    const user = await userWith(app, admin, 'rotate@example.test');
    const first = await postJson(`${app.url}/api/v1/auth/refresh`, { refreshToken: user.refreshToken });
    assert.equal(first.status, 200);
    const rotated = ((await first.json()) as { result: Session }).result;
    assert.notEqual(rotated.refreshToken, user.refreshToken);
    const reuse = await postJson(`${app.url}/api/v1/auth/refresh`, { refreshToken: user.refreshToken });
    assert.equal(reuse.status, 401);
    assert.match(((await reuse.json()) as { error: { message: string } }).error.message, /already used/);
    const family = await postJson(`${app.url}/api/v1/auth/refresh`, { refreshToken: rotated.refreshToken });
    assert.equal(family.status, 401, 'the family is revoked: the newest token dies too');
    const forged = await postJson(`${app.url}/api/v1/auth/refresh`, { refreshToken: `${rotated.refreshToken.split('.')[0]}.forged` });
    assert.equal(forged.status, 401);
  });

  test('logout ends the refresh family; a password change signs every session out and voids older access tokens', async () => {
    const user = await userWith(app, admin, 'pw@example.test');
    const out = await api(app, 'POST', '/api/v1/auth/logout', user.accessToken, { refreshToken: user.refreshToken });
    assert.equal(out.status, 200);
    assert.equal((await postJson(`${app.url}/api/v1/auth/refresh`, { refreshToken: user.refreshToken })).status, 401);
    const session = await login(app, 'pw@example.test', 'pw@example.test password 123');
    const wrong = await api(app, 'POST', '/api/v1/auth/password', session.accessToken, { currentPassword: 'nope', newPassword: 'a brand new password' });
    assert.equal(wrong.status, 401);
    await new Promise((r) => setTimeout(r, 1100));
    const changed = await api(app, 'POST', '/api/v1/auth/password', session.accessToken, { currentPassword: 'pw@example.test password 123', newPassword: 'a brand new password' });
    assert.equal(changed.status, 200);
    await rejected(session.accessToken, 'issued before the password change');
    assert.equal((await postJson(`${app.url}/api/v1/auth/refresh`, { refreshToken: session.refreshToken })).status, 401);
    await login(app, 'pw@example.test', 'a brand new password');
  });

  test('a disabled account is refused at once; an admin cannot disable themselves', async () => {
    const user = await userWith(app, admin, 'gone@example.test');
    const patched = await api(app, 'PATCH', `/api/v1/admin/users/${user.id}`, admin.accessToken, { disabled: true });
    assert.equal(patched.body.result.user.disabled, true);
    await rejected(user.accessToken, 'disabled');
    assert.equal((await postJson(`${app.url}/api/v1/auth/login`, { email: 'gone@example.test', password: 'gone@example.test password 123' })).status, 401);
    const adminId = (await me(admin.accessToken)).body.result.user.id as string;
    assert.equal((await api(app, 'PATCH', `/api/v1/admin/users/${adminId}`, admin.accessToken, { disabled: true })).status, 409);
  });

  test('registration is closed by default; bad bodies answer 400', async () => {
    const closed = await postJson(`${app.url}/api/v1/auth/register`, { email: 'new@example.test', password: 'long enough password' });
    assert.equal(closed.status, 403);
    const bad = await postJson(`${app.url}/api/v1/auth/login`, { email: 'not an email', password: 'x' });
    assert.equal(bad.status, 400);
    const short = await api(app, 'POST', '/api/v1/admin/users', admin.accessToken, { email: 'short@example.test', password: 'short' });
    assert.equal(short.status, 400);
    assert.match(short.body.error!.message, /password/);
    assert.equal((await api(app, 'POST', '/api/v1/admin/users', admin.accessToken, { email: ADMIN.email, password: 'long enough password' })).status, 409);
  });
});

test('open registration and HS256: register answers tokens, the JWKS publishes nothing, RS256 tokens are refused', async () => {
  const app = await startIdentityApp({ REGISTRATION: 'open', JWT_SECRET: 'a shared secret of at least thirty-two chars' });
  try {
    const res = await postJson(`${app.url}/api/v1/auth/register`, { email: 'Fam@Example.test', password: 'family password 1' });
    assert.equal(res.status, 201);
    const { result } = (await res.json()) as { result: Session & { user: { email: string; role: string } } };
    assert.deepEqual([result.user.email, result.user.role], ['fam@example.test', 'user']);
    assert.equal(JSON.parse(Buffer.from(result.accessToken.split('.')[0]!, 'base64url').toString()).alg, 'HS256');
    assert.equal((await api(app, 'GET', '/api/v1/auth/me', result.accessToken)).status, 200);
    assert.deepEqual(((await (await fetch(`${app.url}/.well-known/jwks.json`)).json()) as { keys: unknown[] }).keys, []);
    const { privateKey } = (await import('node:crypto')).generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rs = jwt.sign({ role: 'user', scopes: ['tasks'] }, privateKey, { algorithm: 'RS256', subject: 'x', issuer: 'fotofun-ai-service', audience: 'fotofun-ai-service', expiresIn: 60 });
    assert.equal((await api(app, 'GET', '/api/v1/auth/me', rs)).status, 401);
    assert.equal((await postJson(`${app.url}/api/v1/auth/register`, { email: 'fam@example.test', password: 'family password 2' })).status, 409);
  } finally {
    await app.close();
  }
});
