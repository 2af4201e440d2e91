import { Writable } from 'node:stream';
import { pino } from 'pino';
import { testConfig } from '../../src/config.js';
import { openDatabase, type Db } from '../../src/db/database.js';
import { faceRoutes } from '../../src/endpoints/face.js';
import { compatAuth } from '../../src/endpoints/compat/credentials.js';
import { deepStackRoutes } from '../../src/endpoints/compat/deepstack.js';
import { FaceGallery } from '../../src/db/face-gallery.js';
import { jobRoutes } from '../../src/endpoints/jobs.js';
import { createIdentity, type Identity } from '../../src/identity/identity.js';
import { ConcurrencyGate } from '../../src/middleware/overload.js';
import { invertModel, invertTask, postJson, startTestApp, type TestApp } from '../kit/app.js';
import { directRunner } from '../kit/direct-runner.js';
import { tempDir } from '../kit/onnx.js';
import { createHarness, type Harness } from '../jobs/kit.js';

export const ADMIN = { email: 'admin@example.test', password: 'correct horse battery staple' };

export interface IdentityApp extends TestApp {
  identity: Identity;
  db: Db;
  jobs: Harness;
  dataDir: string;
  /** Everything the identity code logged, plus the app's request log. */
  allLogs(): string;
}

/** The real app in AUTH_MODE=users with the invert task, jobs and the face gallery mounted. */
export async function startIdentityApp(env: Record<string, string> = {}): Promise<IdentityApp> {
  const dataDir = tempDir('fotofun-identity-');
  const fullEnv = { AUTH_MODE: 'users', DATA_DIR: dataDir, ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, LOG_LEVEL: 'debug', ...env };
  const config = testConfig(fullEnv);
  const identityLogs: string[] = [];
  const logger = pino({ level: 'debug' }, new Writable({ write(chunk, _e, cb) { identityLogs.push(String(chunk)); cb(); } }));
  const db = openDatabase(`${dataDir}/fotofun.db`);
  const identity = await createIdentity(config, db, logger);
  const task = invertTask();
  const runner = directRunner({ 'test-invert': invertModel() });
  const jobs = createHarness([task], {}, { runner, db, dataDir });
  const app = await startTestApp({
    env: fullEnv,
    tasks: [task],
    runner,
    deps: {
      identity,
      jobs: jobs.queue,
      selfAuthenticating: [{ path: '/v1/vision', router: deepStackRoutes({ runner, config, gate: new ConcurrencyGate(4, 4), gallery: new FaceGallery(db), auth: compatAuth(config, identity) }) }],
      routers: [
        { path: '/api/v1/jobs', router: jobRoutes({ queue: jobs.queue, config }), inference: false },
        { path: '/api/v1/face', router: faceRoutes({ runner, db, config, logger, gate: new ConcurrencyGate(4, 4) }), inference: true },
      ],
    },
  });
  return {
    ...app, identity, db, jobs, dataDir,
    allLogs: () => [...identityLogs, ...app.logs, ...jobs.logs].join(''),
    close: async () => {
      await app.close();
      await jobs.queue.close();
      db.close();
    },
  };
}

export interface Session {
  accessToken: string;
  refreshToken: string;
  tokenType: string;
  expiresIn: number;
}

export async function login(app: TestApp, email: string, password: string): Promise<Session> {
  const res = await postJson(`${app.url}/api/v1/auth/login`, { email, password });
  if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { result: Session }).result;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** An admin-created account of `role`, signed in. */
export async function userWith(app: TestApp, admin: Session, email: string, role = 'user'): Promise<Session & { id: string }> {
  const password = `${email} password 123`;
  const res = await postJson(`${app.url}/api/v1/admin/users`, { email, password, role }, bearer(admin.accessToken));
  if (res.status !== 201) throw new Error(`create ${email}: ${res.status} ${await res.text()}`);
  const { result } = (await res.json()) as { result: { user: { id: string } } };
  return { ...(await login(app, email, password)), id: result.user.id };
}

export async function api(app: TestApp, method: string, path: string, token: string | undefined, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${app.url}${path}`, {
    method,
    headers: { ...(token ? bearer(token) : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as { result?: any; error?: { code: string; message: string; details?: any } } };
}
