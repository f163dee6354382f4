import type {} from '@fastify/cookie';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from '../modules/accounts/account.ts';
import { API_KEY_PREFIX, type AuthService, unauthorized } from '../modules/auth/auth.service.ts';
import { AppError } from '../shared/errors.ts';
import type { RateLimiter } from './rate-limit.ts';

export const SESSION_COOKIE = 'meridian_session';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

const PUBLIC_ROUTES = new Set(['/api/v1/auth/login']);

/** The credential of a request: an API key (Bearer or X-API-Key) or a login session (cookie or Bearer). */
function credentialOf(request: FastifyRequest): { kind: 'key' | 'session'; secret: string } | undefined {
  const header = request.headers.authorization;
  const bearer = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
  const apiKey = typeof request.headers['x-api-key'] === 'string' ? request.headers['x-api-key'] : undefined;
  const secret = bearer ?? apiKey;
  if (secret) return { kind: secret.startsWith(`${API_KEY_PREFIX}_`) ? 'key' : 'session', secret };
  const cookie = request.cookies?.[SESSION_COOKIE];
  return cookie ? { kind: 'session', secret: cookie } : undefined;
}

/** Every `/api/v1` route but login needs a principal; each principal has its own rate limit. */
export function registerAuthentication(app: FastifyInstance, auth: AuthService, limiter: RateLimiter): void {
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?', 1)[0]!;
    if (!path.startsWith('/api/v1/') || PUBLIC_ROUTES.has(path)) return;
    const credential = credentialOf(request);
    if (!credential) throw unauthorized('send an API key (Authorization: Bearer mk_…) or log in first');
    request.principal =
      credential.kind === 'key' ? await auth.authenticateApiKey(credential.secret) : await auth.authenticateSession(credential.secret);
    const wait = limiter.take(request.principal.actor);
    if (wait > 0) {
      reply.header('retry-after', String(wait));
      throw new AppError('rate_limited', `rate limit exceeded for ${request.principal.actor}; retry in ${wait} s`, 429);
    }
  });
}

/** The principal of an authenticated request (routes under /api/v1 always have one). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthorized('not authenticated');
  return request.principal;
}
