import { z } from 'zod';
import { GalleryPage, EnrolOptions, RecognizeOptions, SubjectBody, VerifyOptions } from '../endpoints/face.js';
import { JobListQuery, JsonSubmit } from '../endpoints/jobs.js';
import { CompreFaceQuery, CompreFaceSubject, EmbeddingsRecognize, EmbeddingsVerify } from '../endpoints/compat/compreface.js';
import { DeepStackFields } from '../endpoints/compat/deepstack.js';
import { RembgParams } from '../endpoints/compat/rembg.js';
import { ERROR_CATALOGUE } from '../errors.js';
import { Credentials, NewKey, NewUser, Page, PasswordChange, RefreshBody, Registration, UsageQuery, UserPatchBody } from '../identity/schemas.js';
import { IMAGE_FORMATS } from '../image/types.js';
import { JOB_STATUSES } from '../jobs/schema.js';
import type { TaskDefinition } from '../tasks/types.js';
import { jsonSchema, parameters } from './schema.js';

type Json = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Json) => ({ 'application/json': { schema } });
const envelope = (result: Json = { type: 'object' }) => ({
  type: 'object', required: ['success', 'result'],
  properties: { success: { const: true }, result, processingTime: { type: 'number', description: 'Server time in ms.' } },
});

/** The error responses every route may give, by status, each with the envelope. */
function errors(...statuses: number[]): Record<string, Json> {
  const byStatus = new Map<number, string[]>();
  for (const [code, status] of Object.entries(ERROR_CATALOGUE)) byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  return Object.fromEntries(statuses.map((s) => [String(s), { description: `Error: ${(byStatus.get(s) ?? []).join(', ')}.`, content: json(ref('ErrorEnvelope')) }]));
}

const ok = (description: string, result?: Json) => ({ '200': { description, content: json(envelope(result)) } });
const READ_ERRORS = [401, 403, 404, 429, 500];
const WORK_ERRORS = [400, 401, 403, 413, 415, 422, 429, 500, 503, 504];

interface Operation {
  summary: string;
  tag: string;
  body?: z.ZodType;
  query?: z.ZodType;
  responses?: Record<string, Json>;
  security?: Json[];
  errors?: number[];
  /** multipart/form-data image fields, when the route takes images. */
  images?: string[];
}

const idParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });

function operation(op: Operation, path: string): Json {
  const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => idParam(m[1]!));
  const imageBody = op.images ? {
    required: true,
    content: {
      'application/json': { schema: { type: 'object', properties: { ...Object.fromEntries(op.images.map((f) => [f, { type: 'string', description: 'base64 or a data URL' }])), options: op.body ? jsonSchema(op.body) : { type: 'object' } } } },
      'multipart/form-data': { schema: { type: 'object', properties: { ...Object.fromEntries(op.images.map((f) => [f, { type: 'string', format: 'binary' }])), options: { type: 'string', description: 'JSON object' } } } },
    },
  } : undefined;
  return {
    summary: op.summary,
    tags: [op.tag],
    operationId: `${op.tag}:${op.summary}`.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : '')),
    ...(params.length || op.query ? { parameters: [...params, ...(op.query ? parameters(op.query, 'query') : [])] } : {}),
    ...(imageBody ? { requestBody: imageBody } : op.body ? { requestBody: { required: true, content: json(jsonSchema(op.body)) } } : {}),
    responses: { ...(op.responses ?? ok('OK')), ...errors(...(op.errors ?? READ_ERRORS)) },
    ...(op.security ? { security: op.security } : {}),
  };
}

const PUBLIC: Json[] = [{}];

/** DeepStack's vision API: multipart forms with `api_key`, answers in its own shapes. */
function deepStackOperations(): Record<string, Record<string, Operation>> {
  const form = (summary: string, images: string[], body: z.ZodType = DeepStackFields): Record<string, Operation> => ({
    post: { summary: `DeepStack: ${summary}`, tag: 'deepstack', body, images, errors: WORK_ERRORS, security: PUBLIC, responses: { '200': { description: 'DeepStack answer `{ success: true, … }`; errors are `{ success: false, error }`', content: json({ type: 'object' }) } } },
  });
  return {
    '/v1/vision/face': form('detect faces', ['image']),
    '/v1/vision/face/register': form('enrol a person (userid) from image or image1…image10', ['image', 'image1', 'image2']),
    '/v1/vision/face/recognize': form('who are the faces', ['image']),
    '/v1/vision/face/list': form('the registered userids', []),
    '/v1/vision/face/delete': form('forget a userid', []),
    '/v1/vision/face/match': form('similarity of the faces in image1 and image2', ['image1', 'image2']),
    '/v1/vision/detection': form('detect objects', ['image']),
  };
}

/** CompreFace's REST API: `x-api-key`, files as multipart `file` or JSON base64, its own answer shapes. */
function compreFaceOperations(): Record<string, Record<string, Operation>> {
  const answer = { '200': { description: 'CompreFace answer; errors are `{ message, code }` (code 28: no face)', content: json({ type: 'object' }) } };
  const op = (summary: string, extra: Partial<Operation> = {}): Operation => ({ summary: `CompreFace: ${summary}`, tag: 'compreface', query: CompreFaceQuery, responses: answer, errors: WORK_ERRORS, ...extra });
  const withFile = (summary: string, images = ['file']) => op(summary, { images, body: z.object({}) });
  return {
    '/api/v1/recognition/subjects': { post: op('add a subject', { body: CompreFaceSubject, query: undefined }), get: op('list subjects', { query: undefined }), delete: op('delete all subjects', { query: undefined }) },
    '/api/v1/recognition/subjects/{subject}': { put: op('rename (or merge) a subject', { body: CompreFaceSubject, query: undefined }), delete: op('delete a subject and its faces', { query: undefined }) },
    '/api/v1/recognition/faces': { post: withFile('add an example of a subject (?subject=)'), get: op('list saved examples (?page=&size=&subject=)'), delete: op('delete the examples of a subject (?subject=), or all') },
    '/api/v1/recognition/faces/{image_id}': { delete: op('delete an example by image_id', { query: undefined }) },
    '/api/v1/recognition/faces/delete': { post: op('delete examples by image_id', { body: z.array(z.string()), query: undefined }) },
    '/api/v1/recognition/faces/{image_id}/img': { get: op('download an example image: images are not stored here (404)', { query: undefined }) },
    '/api/v1/recognition/faces/{image_id}/verify': { post: withFile('verify the faces of an image against an example') },
    '/api/v1/recognition/recognize': { post: withFile('recognize the faces of an image (limit, prediction_count, det_prob_threshold, face_plugins, status)') },
    '/api/v1/recognition/embeddings/recognize': { post: op('recognize embeddings', { body: EmbeddingsRecognize }) },
    '/api/v1/detection/detect': { post: withFile('detect faces (face_plugins)') },
    '/api/v1/verification/verify': { post: withFile('verify the face of source_image against the faces of target_image', ['source_image', 'target_image']) },
    '/api/v1/verification/embeddings/verify': { post: op('verify an embedding against others', { body: EmbeddingsVerify, query: undefined }) },
  };
}

/** Routes that are not tasks, by path and method. */
const OPERATIONS: Record<string, Record<string, Operation>> = {
  '/health': { get: { summary: 'Liveness: status, version, device and loaded models', tag: 'service', security: PUBLIC, errors: [] } },
  '/ready': { get: { summary: 'Readiness: 200 once start-up finished, 503 NOT_READY before', tag: 'service', security: PUBLIC, errors: [503] } },
  '/metrics': { get: { summary: 'Prometheus metrics (text format)', tag: 'service', responses: { '200': { description: 'Exposition text', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
  '/openapi.json': { get: { summary: 'This document', tag: 'service', security: PUBLIC, errors: [], responses: { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } } } },
  '/docs': { get: { summary: 'Interactive API documentation', tag: 'service', security: PUBLIC, errors: [], responses: { '200': { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } } } } },
  '/.well-known/jwks.json': { get: { summary: 'The RS256 public key that verifies access tokens', tag: 'auth', security: PUBLIC, errors: [], responses: { '200': { description: 'JWK set', content: json({ type: 'object', properties: { keys: { type: 'array' } } }) } } } },
  '/api/v1/auth/register': { post: { summary: 'Register (REGISTRATION=open)', tag: 'auth', body: Registration, security: PUBLIC, errors: [400, 403, 409, 429] } },
  '/api/v1/auth/login': { post: { summary: 'Sign in: access and refresh tokens', tag: 'auth', body: Credentials, security: PUBLIC, errors: [400, 401, 429], responses: ok('Tokens', ref('Tokens')) } },
  '/api/v1/auth/refresh': { post: { summary: 'Rotate the refresh token', tag: 'auth', body: RefreshBody, security: PUBLIC, errors: [400, 401, 429], responses: ok('Tokens', ref('Tokens')) } },
  '/api/v1/auth/logout': { post: { summary: 'End the sign-in the refresh token belongs to', tag: 'auth', body: RefreshBody, errors: [400, 401] } },
  '/api/v1/auth/me': { get: { summary: 'Who the credential is', tag: 'auth' } },
  '/api/v1/auth/password': { post: { summary: 'Change the password (signs every session out)', tag: 'auth', body: PasswordChange, errors: [400, 401, 403] } },
  '/api/v1/keys': {
    post: { summary: 'Create an API key (the secret is shown once)', tag: 'keys', body: NewKey, errors: [400, 401, 403], responses: { '201': { description: 'Created', content: json(envelope()) } } },
    get: { summary: 'List your API keys', tag: 'keys' },
  },
  '/api/v1/keys/{id}': { delete: { summary: 'Revoke an API key', tag: 'keys' } },
  '/api/v1/admin/users': {
    get: { summary: 'List users', tag: 'admin', query: Page },
    post: { summary: 'Create a user', tag: 'admin', body: NewUser, errors: [400, 401, 403, 409], responses: { '201': { description: 'Created', content: json(envelope()) } } },
  },
  '/api/v1/admin/users/{id}': {
    get: { summary: 'One user', tag: 'admin' },
    patch: { summary: 'Set a user’s role, limits or disabled flag', tag: 'admin', body: UserPatchBody, errors: [400, 401, 403, 404, 409] },
  },
  '/api/v1/admin/usage': { get: { summary: 'Everyone’s usage per day and operation', tag: 'admin', query: UsageQuery } },
  '/api/v1/usage': { get: { summary: 'Your usage per day and operation', tag: 'usage', query: UsageQuery.omit({ owner: true }) } },
  '/api/v1/face/verify': { post: { summary: 'Do two photos show the same person?', tag: 'faces', body: VerifyOptions, images: ['source', 'target'], errors: WORK_ERRORS } },
  '/api/v1/face/recognize': { post: { summary: 'Who in the gallery are the faces in a photo?', tag: 'faces', body: RecognizeOptions, images: ['image'], errors: WORK_ERRORS } },
  '/api/v1/face/subjects': {
    post: { summary: 'Create a gallery subject', tag: 'gallery', body: SubjectBody, errors: [400, 401, 403], responses: { '201': { description: 'Created', content: json(envelope()) } } },
    get: { summary: 'List gallery subjects', tag: 'gallery', query: GalleryPage },
  },
  '/api/v1/face/subjects/{id}': {
    get: { summary: 'One gallery subject', tag: 'gallery' },
    delete: { summary: 'Delete a gallery subject and its faces', tag: 'gallery' },
  },
  '/api/v1/face/subjects/{id}/faces': { post: { summary: 'Enrol the largest face of a photo', tag: 'gallery', body: EnrolOptions, images: ['image'], errors: WORK_ERRORS } },
  '/api/v1/face/subjects/{id}/faces/{faceId}': { delete: { summary: 'Remove one enrolled face', tag: 'gallery' } },
  '/api/remove': {
    post: { summary: 'rembg: remove the background of an uploaded file', tag: 'rembg', body: RembgParams, images: ['file'], errors: WORK_ERRORS, responses: { '200': { description: 'PNG', content: { 'image/png': { schema: { type: 'string', format: 'binary' } } } } } },
    get: { summary: 'rembg: remove the background of the image at ?url=', tag: 'rembg', query: RembgParams.extend({ url: z.url() }), errors: [...WORK_ERRORS, 502], responses: { '200': { description: 'PNG', content: { 'image/png': { schema: { type: 'string', format: 'binary' } } } } } },
  },
  ...deepStackOperations(),
  ...compreFaceOperations(),
  '/api/v1/jobs': {
    post: { summary: 'Submit any task as a durable job', tag: 'jobs', body: JsonSubmit, errors: [400, 401, 403, 409, 413, 429], responses: { '202': { description: 'Accepted', content: json(envelope(ref('JobAccepted'))) }, '200': { description: 'The job an Idempotency-Key already made', content: json(envelope(ref('JobAccepted'))) } } },
    get: { summary: 'List your jobs', tag: 'jobs', query: JobListQuery },
  },
  '/api/v1/jobs/{id}': {
    get: { summary: 'A job’s status, progress and result link', tag: 'jobs' },
    delete: { summary: 'Cancel a job', tag: 'jobs', errors: [...READ_ERRORS, 409] },
  },
  '/api/v1/jobs/{id}/result': { get: { summary: 'A finished job’s result (the image, or JSON)', tag: 'jobs', errors: [...READ_ERRORS, 409] } },
  '/api/v1/jobs/{id}/events': { get: { summary: 'Follow a job over Server-Sent Events (resumes with Last-Event-ID)', tag: 'jobs', responses: { '200': { description: 'SSE stream', content: { 'text/event-stream': { schema: { type: 'string' } } } } } } },
  '/api/v1/models': { get: { summary: 'The model catalogue with live state and latency', tag: 'models' } },
  '/api/v1/models/{id}': { get: { summary: 'One model', tag: 'models' } },
  '/api/v1/models/{id}/load': { post: { summary: 'Fetch and load a model now (admin)', tag: 'models', errors: [...READ_ERRORS, 503] } },
  '/api/v1/models/{id}/unload': { post: { summary: 'Unload a model’s idle sessions (admin)', tag: 'models' } },
  '/api/v1/vram': { get: { summary: 'The VRAM scheduler’s zones, sessions and recent decisions', tag: 'models' } },
};

const ASYNC_PARAMS = [
  { name: 'Prefer', in: 'header', required: false, schema: { type: 'string', examples: ['respond-async'] }, description: '`respond-async` runs the request as a job (202).' },
  { name: 'async', in: 'query', required: false, schema: { type: 'boolean' }, description: 'The same as Prefer: respond-async.' },
  { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 255 } },
  { name: 'X-Webhook-URL', in: 'header', required: false, schema: { type: 'string', format: 'uri' } },
];

function taskPaths(task: TaskDefinition): Record<string, Json> {
  const fields = task.images ? [...task.images.main, ...task.images.extra] : ['image'];
  const base = operation({ summary: task.description, tag: 'tasks', body: task.options, images: fields, errors: WORK_ERRORS }, '');
  const body = base.requestBody as { content: Record<string, Json> };
  const jsonBody = body.content['application/json'] as { schema: { properties: Json } };
  jsonBody.schema.properties.format = { enum: [...IMAGE_FORMATS] };
  const paths: Record<string, Json> = {
    [`/api/v1/${task.route}`]: {
      post: {
        ...base,
        operationId: `task_${task.name.replace(/-/g, '_')}`,
        parameters: ASYNC_PARAMS,
        responses: {
          '200': { description: 'The result: an image as base64 with its metadata, or JSON', content: json(envelope()) },
          '202': { description: 'Accepted as a job', content: json(envelope(ref('JobAccepted'))) },
          ...errors(...WORK_ERRORS),
        },
      },
    },
  };
  if (task.shortRoute) {
    paths[`/v1/${task.shortRoute}`] = {
      post: {
        ...base,
        operationId: `short_${task.name.replace(/-/g, '_')}`,
        summary: `${task.description} (image in, image or JSON out)`,
        requestBody: { required: true, content: { 'multipart/form-data': body.content['multipart/form-data'], 'image/*': { schema: { type: 'string', format: 'binary' } } } },
        responses: {
          '200': { description: 'The image bytes, or JSON', content: { 'image/*': { schema: { type: 'string', format: 'binary' } }, 'application/json': { schema: { type: 'object' } } } },
          ...errors(...WORK_ERRORS),
        },
      },
    };
  }
  return paths;
}

export interface DocumentInput {
  tasks: readonly TaskDefinition[];
  version: string;
}

/** The OpenAPI 3.1 document, from the same zod schemas the routes parse with. */
export function buildOpenApiDocument(input: DocumentInput): Json {
  const paths: Record<string, Json> = {};
  for (const [path, methods] of Object.entries(OPERATIONS)) {
    paths[path] = Object.fromEntries(Object.entries(methods).map(([m, op]) => [m, operation(op, path)]));
  }
  for (const task of input.tasks) Object.assign(paths, taskPaths(task));
  return {
    openapi: '3.1.0',
    info: {
      title: 'FotoFun AI Service',
      version: input.version,
      description: 'Image AI over HTTP: background removal, upscaling, faces, objects, OCR, depth, style transfer; async jobs; accounts. Errors always come in the ErrorEnvelope with a stable code.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/' }],
    security: [{}, { bearer: [] }, { apiKey: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'AUTH_MODE=key: the API_KEY. AUTH_MODE=users: an access token (JWT) or a per-user API key (ffk_…).' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'The same key in a header of its own.' },
      },
      schemas: {
        ErrorCode: { enum: Object.keys(ERROR_CATALOGUE) },
        ErrorEnvelope: {
          type: 'object', required: ['success', 'error'],
          properties: {
            success: { const: false },
            error: { type: 'object', required: ['code', 'message'], properties: { code: ref('ErrorCode'), message: { type: 'string' }, details: {} } },
            processingTime: { type: 'number' },
          },
        },
        Tokens: { type: 'object', required: ['accessToken', 'refreshToken', 'tokenType', 'expiresIn'], properties: { accessToken: { type: 'string' }, refreshToken: { type: 'string' }, tokenType: { const: 'Bearer' }, expiresIn: { type: 'integer' } } },
        JobAccepted: { type: 'object', required: ['jobId', 'status', 'links'], properties: { jobId: { type: 'string' }, status: { enum: [...JOB_STATUSES] }, links: { type: 'object' } } },
      },
    },
  };
}
