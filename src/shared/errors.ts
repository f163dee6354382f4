/** The one error type of Meridian. `code` is stable and documented; `status` is the HTTP status it maps to. */
export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number = 400,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const notFound = (what: string, id: string): AppError =>
  new AppError(`${what}_not_found`, `${what.replaceAll('_', ' ')} ${id} does not exist or is not visible to this account`, 404);

export const forbidden = (message: string): AppError => new AppError('forbidden', message, 403);

export const invalid = (code: string, message: string, details?: Record<string, unknown>): AppError =>
  new AppError(code, message, 400, details);

export const conflict = (code: string, message: string, details?: Record<string, unknown>): AppError =>
  new AppError(code, message, 409, details);
