import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/database.ts';
import * as repo from '../modules/idempotency/idempotency.repository.ts';
import type { Clock } from '../shared/clock.ts';
import { AppError, invalid } from '../shared/errors.ts';

const HEADER = 'idempotency-key';

declare module 'fastify' {
  interface FastifyRequest {
    idempotency?: { principal: string; key: string };
  }
}

/**
 * `Idempotency-Key` on POST: the first request with a key runs and its response is stored; a repeat
 * with the same body gets the stored response, with another body an error.
 */
export function registerIdempotency(app: FastifyInstance, db: Db, clock: Clock): void {
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    const key = request.headers[HEADER];
    if (request.method !== 'POST' || key === undefined || !request.principal) return;
    if (typeof key !== 'string' || key.length < 1 || key.length > 255) {
      throw invalid('invalid_idempotency_key', 'Idempotency-Key must be one header of 1 to 255 characters');
    }
    const principal = request.principal.actor;
    const body = typeof request.body === 'string' ? request.body : JSON.stringify(request.body ?? null);
    const hash = createHash('sha256').update(`${request.method} ${request.url}\n${body}`).digest('hex');
    const stored = await repo.claimKey(db, principal, key, hash, clock.now());
    if (!stored) {
      request.idempotency = { principal, key };
      return;
    }
    if (stored.requestHash !== hash) {
      throw new AppError('idempotency_key_reused', `Idempotency-Key ${key} was used before with a different request`, 422);
    }
    if (stored.statusCode === null) {
      throw new AppError('idempotency_in_progress', `a request with Idempotency-Key ${key} is still being processed`, 409);
    }
    reply.header('idempotent-replayed', 'true');
    return reply.status(stored.statusCode).type('application/json').send(stored.body);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const ctx = request.idempotency;
    if (!ctx) return payload;
    request.idempotency = undefined;
    if (reply.statusCode >= 500) await repo.releaseKey(db, ctx.principal, ctx.key);
    else await repo.storeResponse(db, ctx.principal, ctx.key, reply.statusCode, typeof payload === 'string' ? payload : JSON.stringify(payload ?? null));
    return payload;
  });
}
