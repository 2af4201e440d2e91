import pino, { type Logger } from 'pino';

/**
 * Paths that may carry secrets or payloads. Request bodies are never logged at all; these cover
 * headers and any object a module logs by mistake.
 */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'headers.authorization',
  '*.image',
  '*.base64',
  '*.apiKey',
  '*.token',
  '*.secret',
  'image',
  'apiKey',
  'token',
  'secret',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'fotofun-ai' } }, destination);
}
