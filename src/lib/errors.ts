/** Typed errors with a stable code; one middleware renders them as HTML or JSON. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class NotFoundError extends AppError {
  constructor(what = 'The requested item') {
    super(404, 'not_found', `${what} was not found.`);
  }
}

export type FieldErrors = Record<string, string>;

/** 422 naming each field and its problem; the message lists them so pages that show only the message stay clear. */
export class ValidationError extends AppError {
  constructor(readonly fields: FieldErrors) {
    super(422, 'validation_failed', `Invalid ${Object.entries(fields).map(([field, problem]) => `${field}: ${problem}`).join('; ')}`, { fields });
  }
}

export class ConflictError extends AppError {
  constructor(message: string, field?: string) {
    super(409, 'conflict', message, field ? { field } : undefined);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'Sign in first.') {
    super(401, 'unauthorized', message);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'You are not allowed to do that.') {
    super(403, 'forbidden', message);
  }
}

export class RateLimitedError extends AppError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(429, 'rate_limited', message, { retryAfterSeconds });
  }
}

export class CsrfError extends AppError {
  constructor() {
    super(403, 'csrf_failed', 'This form has expired or did not come from this site. Reload the page and try again.');
  }
}
