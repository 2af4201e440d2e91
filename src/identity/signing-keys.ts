import { createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';

/** How access tokens are signed and checked; verification accepts this one algorithm only. */
export interface SigningKeys {
  algorithm: 'RS256' | 'HS256';
  signKey: string | Buffer;
  verifyKey: string | Buffer;
  /** Key id, in each token's header and the JWKS entry. */
  kid: string;
  /** The public key as a JWK for /.well-known/jwks.json; none for HS256 (a shared secret is never published). */
  jwk?: JsonWebKey;
}

function rsaKeys(privatePem: string, publicPem: string): SigningKeys {
  const jwk = createPublicKey(publicPem).export({ format: 'jwk' });
  // RFC 7638 would hash the canonical JWK; the modulus prefix is as stable and needs no more code.
  const kid = Buffer.from(String(jwk.n)).toString('base64url').slice(0, 16);
  return { algorithm: 'RS256', signKey: privatePem, verifyKey: publicPem, kid, jwk: { ...jwk, kid, alg: 'RS256', use: 'sig' } };
}

/** A key pair generated on first start into DATA_DIR (private key 0600), reused after. */
function generatedPair(dataDir: string, logger: Logger): { privatePem: string; publicPem: string } {
  const privateFile = path.join(dataDir, 'jwt-private.pem');
  const publicFile = path.join(dataDir, 'jwt-public.pem');
  if (fs.existsSync(privateFile) && fs.existsSync(publicFile)) {
    return { privatePem: fs.readFileSync(privateFile, 'utf8'), publicPem: fs.readFileSync(publicFile, 'utf8') };
  }
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(privateFile, privateKey, { mode: 0o600 });
  fs.writeFileSync(publicFile, publicKey, { mode: 0o644 });
  logger.info({ publicKey: publicFile }, 'generated the RS256 key pair for access tokens');
  return { privatePem: privateKey, publicPem: publicKey };
}

export function loadSigningKeys(config: Config, logger: Logger): SigningKeys {
  if (config.JWT_SECRET) {
    return { algorithm: 'HS256', signKey: Buffer.from(config.JWT_SECRET), verifyKey: Buffer.from(config.JWT_SECRET), kid: 'hs256' };
  }
  if (config.JWT_PRIVATE_KEY_FILE && config.JWT_PUBLIC_KEY_FILE) {
    return rsaKeys(fs.readFileSync(config.JWT_PRIVATE_KEY_FILE, 'utf8'), fs.readFileSync(config.JWT_PUBLIC_KEY_FILE, 'utf8'));
  }
  const { privatePem, publicPem } = generatedPair(config.DATA_DIR, logger);
  return rsaKeys(privatePem, publicPem);
}
