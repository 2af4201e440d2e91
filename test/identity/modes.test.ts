import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, testConfig } from '../../src/config.js';
import { routeNeed } from '../../src/identity/scopes.js';
import { isMetered, routeTier } from '../../src/identity/tiers.js';
import { createApp } from '../../src/server.js';
import { createTaskRegistry } from '../../src/tasks/registry.js';
import { pino } from 'pino';
import { directRunner } from '../kit/direct-runner.js';

test('AUTH_MODE: off without a key, key with API_KEY (as before), users on request; contradictions are named', () => {
  assert.equal(testConfig().AUTH_MODE, 'off');
  assert.equal(testConfig({ API_KEY: 'k'.repeat(16) }).AUTH_MODE, 'key');
  assert.equal(testConfig({ AUTH_MODE: 'users' }).AUTH_MODE, 'users');
  for (const [env, problem] of [
    [{ AUTH_MODE: 'key' }, /AUTH_MODE: key needs API_KEY/],
    [{ JWT_PRIVATE_KEY_FILE: '/k.pem' }, /together with JWT_PUBLIC_KEY_FILE/],
    [{ ADMIN_EMAIL: 'a@b.test' }, /together with ADMIN_PASSWORD/],
    [{ ADMIN_EMAIL: 'a@b.test', ADMIN_PASSWORD: 'short' }, /ADMIN_PASSWORD: expects at least 12/],
    [{ JWT_SECRET: 'too short' }, /JWT_SECRET: expects at least 32/],
  ] as const) {
    assert.throws(() => testConfig(env as Record<string, string>), (err: Error) => err instanceof ConfigError && problem.test(err.message), JSON.stringify(env));
  }
});

test('AUTH_MODE=users refuses to build an app without the identity service', () => {
  assert.throws(() => createApp(testConfig({ AUTH_MODE: 'users' }), {
    logger: pino({ level: 'silent' }), runner: directRunner({}), tasks: createTaskRegistry([]),
    health: { device: () => 'cpu', models: () => [] }, readiness: { isReady: () => true, reason: () => '' },
  }), /needs deps.identity/);
});

test('the route table: scopes, cost tiers and metering', () => {
  assert.equal(routeNeed('POST', '/api/v1/auth/login'), 'public');
  assert.equal(routeNeed('GET', '/.well-known/jwks.json'), 'public');
  assert.equal(routeNeed('GET', '/api/v1/auth/me'), 'signed-in');
  assert.equal(routeNeed('POST', '/api/v1/imgly/remove-background'), 'tasks');
  assert.equal(routeNeed('GET', '/api/v1/jobs/abc/events'), 'jobs');
  assert.equal(routeNeed('DELETE', '/api/v1/face/subjects/1'), 'gallery');
  assert.equal(routeNeed('POST', '/api/v1/models/u2net/load'), 'models:admin');
  assert.equal(routeNeed('GET', '/api/v1/models'), 'tasks');
  assert.equal(routeNeed('GET', '/metrics'), 'metrics');
  assert.equal(routeTier('POST', '/api/v1/imgly/remove-background'), 'strict');
  assert.equal(routeTier('POST', '/api/v1/face/verify'), 'moderate');
  assert.equal(routeTier('POST', '/v1/detect-objects'), 'moderate');
  assert.equal(routeTier('GET', '/api/v1/jobs'), 'lenient');
  assert.equal(isMetered('POST', '/api/v1/jobs'), true);
  assert.equal(isMetered('POST', '/api/v1/face/subjects/1/faces'), true);
  assert.equal(isMetered('POST', '/api/v1/face/subjects'), false);
  assert.equal(isMetered('GET', '/api/v1/jobs'), false);
});
