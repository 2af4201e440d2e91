import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { postJson, samplePng } from '../kit/app.js';
import { ADMIN, api, login, startIdentityApp, userWith, type IdentityApp, type Session } from './kit.js';

describe('AUTH_MODE=users: API keys, isolation, limits and usage', () => {
  let app: IdentityApp;
  let admin: Session;
  let png: string;
  before(async () => {
    app = await startIdentityApp({ LOGIN_MAX_FAILURES: '3', RATE_LIMIT_STRICT_PER_MINUTE: '1000' });
    admin = await login(app, ADMIN.email, ADMIN.password);
    png = (await samplePng()).toString('base64');
  });
  after(() => app.close());

  const invert = (headers: Record<string, string>) => postJson(`${app.url}/api/v1/test/invert`, { image: png }, headers);

  test('a key is shown once, stored hashed with a visible prefix, works as Bearer and X-API-Key, and records its last use', async () => {
    const user = await userWith(app, admin, 'keys@example.test');
    const made = await api(app, 'POST', '/api/v1/keys', user.accessToken, { name: 'laptop', scopes: ['tasks'] });
    assert.equal(made.status, 201);
    const { secret, key } = made.body.result as { secret: string; key: { id: string; prefix: string; lastUsedAt: string | null } };
    assert.ok(secret.startsWith(key.prefix) && key.prefix.length === 12);
    const stored = app.db.prepare('SELECT secret_hash FROM api_keys WHERE id = ?').pluck().get(key.id) as string;
    assert.notEqual(stored, secret);
    assert.ok(!JSON.stringify((await api(app, 'GET', '/api/v1/keys', user.accessToken)).body).includes(secret), 'listing never shows the secret');
    assert.equal((await invert({ authorization: `Bearer ${secret}` })).status, 200);
    assert.equal((await invert({ 'x-api-key': secret })).status, 200);
    const listed = (await api(app, 'GET', '/api/v1/keys', user.accessToken)).body.result.keys as { id: string; lastUsedAt: string | null }[];
    assert.ok(listed.find((k) => k.id === key.id)?.lastUsedAt);
    const narrow = await api(app, 'GET', '/api/v1/jobs', secret);
    assert.equal(narrow.status, 403, 'the key has only the tasks scope');
    assert.equal(narrow.body.error?.details.missingScope, 'jobs');
  });

  test('a revoked key and an expired key answer 401; a key cannot outgrow its owner', async () => {
    const user = await userWith(app, admin, 'revoke@example.test');
    const { secret, key } = (await api(app, 'POST', '/api/v1/keys', user.accessToken, { name: 'old' })).body.result as { secret: string; key: { id: string } };
    assert.equal((await api(app, 'DELETE', `/api/v1/keys/${key.id}`, user.accessToken)).status, 200);
    const revoked = await invert({ 'x-api-key': secret });
    assert.equal(revoked.status, 401);
    const soon = (await api(app, 'POST', '/api/v1/keys', user.accessToken, { name: 'soon', expiresAt: new Date(Date.now() + 60_000).toISOString() })).body.result as { secret: string; key: { id: string } };
    app.db.prepare('UPDATE api_keys SET expires_at = ? WHERE id = ?').run(Date.now() - 1, soon.key.id);
    const expired = await invert({ 'x-api-key': soon.secret });
    assert.equal(expired.status, 401);
    assert.match(((await expired.json()) as { error: { message: string } }).error.message, /expired/);
    const greedy = await api(app, 'POST', '/api/v1/keys', user.accessToken, { name: 'admin?', scopes: ['users:admin'] });
    assert.equal(greedy.status, 403);
    assert.equal((await invert({ 'x-api-key': 'ffk_not-a-real-key' })).status, 401);
  });

  test('a service key on an admin route is 403 naming the scope', async () => {
    const svc = await userWith(app, admin, 'robot@example.test', 'service');
    const keys = await api(app, 'POST', '/api/v1/keys', svc.accessToken, { name: 'x' });
    assert.equal(keys.status, 403, 'service accounts do not manage keys');
    const adminKey = (await api(app, 'POST', '/api/v1/keys', admin.accessToken, { name: 'for the robot', scopes: ['tasks', 'jobs'] })).body.result.secret as string;
    const res = await api(app, 'POST', '/api/v1/models/face-detect/load', adminKey);
    assert.equal(res.status, 403);
    assert.equal(res.body.error?.details.missingScope, 'models:admin');
    assert.equal((await api(app, 'GET', '/api/v1/admin/usage', svc.accessToken)).status, 403);
  });

  test("user A cannot see user B's job, gallery subject or key: 404", async () => {
    const a = await userWith(app, admin, 'a@example.test');
    const b = await userWith(app, admin, 'b@example.test');
    const job = await postJson(`${app.url}/api/v1/test/invert?async=true`, { image: png }, { authorization: `Bearer ${b.accessToken}` });
    assert.equal(job.status, 202);
    const jobId = ((await job.json()) as { result: { jobId: string } }).result.jobId;
    const subject = (await api(app, 'POST', '/api/v1/face/subjects', b.accessToken, { name: 'Grandma' })).body.result.subject.id as string;
    const key = (await api(app, 'POST', '/api/v1/keys', b.accessToken, { name: 'b' })).body.result.key.id as string;
    assert.equal((await api(app, 'GET', `/api/v1/jobs/${jobId}`, b.accessToken)).status, 200);
    for (const [method, path] of [['GET', `/api/v1/jobs/${jobId}`], ['GET', `/api/v1/face/subjects/${subject}`], ['DELETE', `/api/v1/keys/${key}`]] as const) {
      const res = await api(app, method, path, a.accessToken);
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.equal(res.body.error?.code, 'NOT_FOUND');
    }
    assert.equal(((await api(app, 'GET', '/api/v1/face/subjects', a.accessToken)).body.result.subjects as unknown[]).length, 0);
  });

  test('brute-force sign-in is throttled per account: after LOGIN_MAX_FAILURES wrong passwords even the right one waits', async () => {
    await userWith(app, admin, 'target@example.test');
    for (let i = 0; i < 3; i++) assert.equal((await postJson(`${app.url}/api/v1/auth/login`, { email: 'target@example.test', password: `guess ${i}` })).status, 401);
    const blocked = await postJson(`${app.url}/api/v1/auth/login`, { email: 'Target@example.test', password: 'target@example.test password 123' });
    assert.equal(blocked.status, 429);
    assert.equal(((await blocked.json()) as { error: { code: string } }).error.code, 'RATE_LIMITED');
    assert.ok(Number(blocked.headers.get('retry-after')) > 0);
    assert.equal((await postJson(`${app.url}/api/v1/auth/login`, { email: ADMIN.email, password: ADMIN.password })).status, 200, 'other accounts are unaffected');
  });

  test('per-user limits: an admin sets a user to 2 per minute; the third request is 429 with RateLimit headers and Retry-After', async () => {
    const user = await userWith(app, admin, 'limited@example.test');
    assert.equal((await api(app, 'PATCH', `/api/v1/admin/users/${user.id}`, admin.accessToken, { ratePerMinute: 2 })).status, 200);
    const headers = { authorization: `Bearer ${user.accessToken}` };
    const first = await invert(headers);
    assert.equal(first.status, 200);
    assert.match(first.headers.get('ratelimit') ?? first.headers.get('ratelimit-policy') ?? '', /\d/);
    assert.equal((await invert(headers)).status, 200);
    const third = await invert(headers);
    assert.equal(third.status, 429);
    const body = (await third.json()) as { error: { code: string; details: { limit: string } } };
    assert.deepEqual([body.error.code, body.error.details.limit], ['RATE_LIMITED', 'per user']);
    assert.ok(Number(third.headers.get('retry-after')) > 0);
  });

  test('usage per owner, operation and day; admins see everyone; a daily quota answers 429 QUOTA_EXCEEDED', async () => {
    const user = await userWith(app, admin, 'usage@example.test');
    const headers = { authorization: `Bearer ${user.accessToken}` };
    assert.equal((await invert(headers)).status, 200);
    assert.equal((await postJson(`${app.url}/api/v1/test/invert`, { image: 'not base64!' }, headers)).status, 400);
    const own = await api(app, 'GET', '/api/v1/usage', user.accessToken);
    const rows = own.body.result.usage as { operation: string; requests: number; errors: number; inputPixels: number; outputPixels: number }[];
    const invertRow = rows.find((r) => r.operation === 'test-invert');
    assert.equal(invertRow?.requests, 1);
    assert.equal(invertRow?.inputPixels, 32 * 24);
    assert.equal(invertRow?.outputPixels, 32 * 24);
    assert.equal(rows.reduce((s, r) => s + r.errors, 0), 1, 'the bad request counts as an error');
    const all = await api(app, 'GET', `/api/v1/admin/usage?owner=user:${user.id}`, admin.accessToken);
    assert.equal((all.body.result.usage as { owner: string }[]).every((r) => r.owner === `user:${user.id}`), true);
    assert.equal((await api(app, 'PATCH', `/api/v1/admin/users/${user.id}`, admin.accessToken, { dailyQuota: 2 })).status, 200);
    const over = await invert(headers);
    assert.equal(over.status, 429);
    assert.equal(((await over.json()) as { error: { code: string } }).error.code, 'QUOTA_EXCEEDED');
    assert.equal((await api(app, 'GET', '/api/v1/usage', user.accessToken)).status, 200, 'reads are not metered');
  });

  test("DeepStack's api_key form field takes a user's API key; the key's scopes still apply", async () => {
    const user = await userWith(app, admin, 'deepstack@example.test');
    const narrow = (await api(app, 'POST', '/api/v1/keys', user.accessToken, { name: 'nvr', scopes: ['tasks'] })).body.result.secret as string;
    const list = async (apiKey: string) => {
      const form = new FormData();
      form.set('api_key', apiKey);
      const res = await fetch(`${app.url}/v1/vision/face/list`, { method: 'POST', body: form });
      return { status: res.status, body: (await res.json()) as { success: boolean; faces?: string[]; error?: string } };
    };
    const refused = await list(narrow);
    assert.deepEqual([refused.status, refused.body.success], [403, false]);
    assert.match(refused.body.error!, /"gallery" scope/);
    const full = (await api(app, 'POST', '/api/v1/keys', user.accessToken, { name: 'nvr2' })).body.result.secret as string;
    const allowed = await list(full);
    assert.deepEqual([allowed.status, allowed.body.success, allowed.body.faces], [200, true, []]);
    const usage = (await api(app, 'GET', '/api/v1/usage', user.accessToken)).body.result.usage as { operation: string; requests: number }[];
    assert.equal(usage.find((u) => u.operation === '/v1/vision/face/list')?.requests, 1, 'a DeepStack request is metered like a native one');
    assert.equal((await list('ffk_forged')).status, 401);
  });

  test('no password, token, key secret or hash appears in any log line', async () => {
    const user = await userWith(app, admin, 'secretive@example.test');
    const secret = (await api(app, 'POST', '/api/v1/keys', user.accessToken, { name: 'k' })).body.result.secret as string;
    await invert({ 'x-api-key': secret });
    await postJson(`${app.url}/api/v1/auth/login`, { email: 'secretive@example.test', password: 'wrong password here' });
    await postJson(`${app.url}/api/v1/auth/refresh`, { refreshToken: user.refreshToken });
    const logs = app.allLogs();
    assert.ok(logs.length > 1000, 'the requests were logged');
    const hashes = app.db.prepare('SELECT password_hash FROM users').pluck().all() as string[];
    const keyHashes = app.db.prepare('SELECT secret_hash FROM api_keys').pluck().all() as string[];
    for (const needle of [ADMIN.password, 'secretive@example.test password 123', 'wrong password here', user.accessToken, user.refreshToken, user.refreshToken.split('.')[1]!, admin.accessToken, secret, ...hashes, ...keyHashes]) {
      assert.ok(!logs.includes(needle), `a log line contains ${needle.slice(0, 12)}…`);
    }
  });
});
