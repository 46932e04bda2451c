// The closed set of error categories (SPEC.md §3), part of the contract: the server throws these,
// every client reads them from the envelope. Every error a user can see carries one,
// a stable code, what was wrong, the value received, the fix, and the next commands to run.
export const ERROR_CATEGORIES = [
  'config-missing',
  'invalid-input',
  'image-pull',
  'health-check',
  'capacity',
  'permission',
  'quota',
  'timeout',
  'conflict',
  'not-found',
  'internal',
] as const;

export type ErrorCategory = (typeof ERROR_CATEGORIES)[number];

/** HTTP status per category: mapped once, here, and used by the API's onError. */
export const HTTP_STATUS: Record<ErrorCategory, number> = {
  'config-missing': 422,
  'invalid-input': 400,
  'image-pull': 502,
  'health-check': 502,
  capacity: 503,
  permission: 403,
  quota: 429,
  timeout: 504,
  conflict: 409,
  'not-found': 404,
  internal: 500,
};

/** CLI exit code per category: documented in the README, mapped once in the CLI error handler. */
export const EXIT_CODES: Record<ErrorCategory, number> = {
  internal: 1,
  'invalid-input': 2,
  'config-missing': 3,
  'not-found': 4,
  conflict: 5,
  permission: 6,
  'health-check': 7,
  'image-pull': 8,
  capacity: 9,
  timeout: 10,
  quota: 11,
};

export interface ErrorBody {
  category: ErrorCategory;
  code: string;
  message: string;
  details?: unknown;
  next?: string[];
}

export interface BerthErrorOptions {
  details?: unknown;
  /** Overrides the category's status where HTTP draws a finer line (401 vs 403). */
  httpStatus?: number;
  next?: string[];
  cause?: unknown;
}

export class BerthError extends Error {
  readonly category: ErrorCategory;
  readonly code: string;
  readonly details?: unknown;
  readonly next: string[];
  readonly httpStatus: number;

  constructor(category: ErrorCategory, code: string, message: string, options: BerthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    // The name is what Amazon States Language matches in Retry/Catch `ErrorEquals`,
    // so a failing Task surfaces its category to the state machine as the error name.
    this.name = category;
    this.category = category;
    this.code = code;
    this.details = options.details;
    this.next = options.next ?? [];
    this.httpStatus = options.httpStatus ?? HTTP_STATUS[category];
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { category: this.category, code: this.code, message: this.message };
    if (this.details !== undefined) body.details = this.details;
    body.next = this.next;
    return body;
  }
}

export class InvalidInputError extends BerthError {
  constructor(code: string, message: string, options?: BerthErrorOptions) {
    super('invalid-input', code, message, options);
  }
}

export class ConfigMissingError extends BerthError {
  constructor(code: string, message: string, options?: BerthErrorOptions) {
    super('config-missing', code, message, options);
  }
}

export class NotFoundError extends BerthError {
  constructor(code: string, message: string, options?: BerthErrorOptions) {
    super('not-found', code, message, options);
  }
}

export class ConflictError extends BerthError {
  constructor(code: string, message: string, options?: BerthErrorOptions) {
    super('conflict', code, message, options);
  }
}

export class PermissionError extends BerthError {
  constructor(code: string, message: string, options?: BerthErrorOptions) {
    super('permission', code, message, options);
  }
}

export class CapacityError extends BerthError {
  constructor(code: string, message: string, options?: BerthErrorOptions) {
    super('capacity', code, message, options);
  }
}

export class ImagePullError extends BerthError {
  constructor(code: string, message: string, options?: BerthErrorOptions) {
    super('image-pull', code, message, options);
  }
}

export class HealthCheckError extends BerthError {
  constructor(code: string, message: string, options?: BerthErrorOptions) {
    super('health-check', code, message, options);
  }
}

export class TimeoutError extends BerthError {
  constructor(code: string, message: string, options?: BerthErrorOptions) {
    super('timeout', code, message, options);
  }
}

export function isErrorCategory(value: unknown): value is ErrorCategory {
  return typeof value === 'string' && (ERROR_CATEGORIES as readonly string[]).includes(value);
}
