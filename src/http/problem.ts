import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { AppError } from '../shared/errors.ts';

/** RFC 9457 problem document; `code` is the stable machine-readable error. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  instance?: string;
  errors?: { path: string; message: string }[];
  [key: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function problem(status: number, code: string, detail: string, extra: Record<string, unknown> = {}): Problem {
  return { type: `https://meridian.dev/problems/${code}`, title: TITLES[status] ?? 'Error', status, code, detail, ...extra };
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.status(p.status).type('application/problem+json').send(JSON.stringify(p));
}

/** The only place that maps errors to HTTP responses. */
export function errorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof AppError) {
    if (error.status === 429 && typeof error.details?.retryAfterSeconds === 'number') reply.header('retry-after', String(error.details.retryAfterSeconds));
    return sendProblem(reply, problem(error.status, error.code, error.message, { instance: request.url, ...(error.details ?? {}) }));
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const errors = error.validation.map((v) => ({
      path: `${error.validationContext ?? 'body'}${v.instancePath ? v.instancePath.replaceAll('/', '.') : ''}`,
      message: v.message ?? 'invalid',
    }));
    return sendProblem(
      reply,
      problem(400, 'validation_failed', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { instance: request.url, errors }),
    );
  }
  if (isResponseSerializationError(error)) {
    request.log.error({ err: error }, 'response did not match its schema');
    return sendProblem(reply, problem(500, 'internal_error', 'the server produced an invalid response', { instance: request.url }));
  }
  const fe = error as FastifyError;
  if (fe.statusCode && fe.statusCode < 500) {
    const code = fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'payload_too_large' : fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'unsupported_media_type' : fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ? 'invalid_json' : 'bad_request';
    return sendProblem(reply, problem(fe.statusCode, code, fe.message, { instance: request.url }));
  }
  request.log.error({ err: error }, 'unhandled error');
  return sendProblem(reply, problem(500, 'internal_error', 'an internal error occurred; it was logged', { instance: request.url }));
}
