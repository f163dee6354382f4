/** A small client of the Meridian REST API (`/api/v1`) on Node's global fetch. */

/** An error answered by the API: an `application/problem+json` document with a stable `code`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly body: unknown,
  ) {
    super(`${code}: ${detail}`);
    this.name = 'ApiError';
  }
}

/** The server could not be reached at all (refused, unknown host, reset, timeout). */
export class ConnectionError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`cannot reach the Meridian server at ${url}: ${reason}`);
    this.name = 'ConnectionError';
  }
}

export type QueryValue = string | number | boolean | null | undefined | readonly string[];
export type Query = Record<string, QueryValue>;

export interface RequestOptions {
  query?: Query;
  /** A JSON body. */
  json?: unknown;
  /** A text body (e.g. CSV) sent with `contentType`. */
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
  /** The answer is a document (CSV, XLSX, PDF …): its bytes, not text or JSON. */
  binary?: boolean;
}

export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  data: T;
}

/** A page of a list endpoint. */
export interface Page<T> {
  items: T[];
  nextCursor: string | number | null;
}

const MAX_RATE_LIMIT_RETRIES = 3;
const MAX_RETRY_WAIT_SECONDS = 10;

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'host name lookup failed',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed by the server',
};

function connectionReason(e: unknown): string {
  let cause: unknown = e;
  let message = e instanceof Error ? e.message : String(e);
  // NOTE: fetch wraps the socket error (sometimes twice, e.g. in an AggregateError for several addresses).
  for (let i = 0; i < 4 && cause; i++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string') return REASONS[code] ?? code;
    if (cause instanceof Error && cause.message) message = cause.message;
    const errors = (cause as { errors?: unknown }).errors;
    cause = Array.isArray(errors) && errors.length ? (errors[0] as unknown) : (cause as { cause?: unknown }).cause;
  }
  return message;
}

function isProblem(body: unknown): body is { code: string; detail?: unknown; title?: unknown } {
  return typeof body === 'object' && body !== null && typeof (body as { code?: unknown }).code === 'string';
}

export class ApiClient {
  readonly baseUrl: string;
  private readonly apiKey: string | undefined;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: { baseUrl: string; apiKey?: string; sleep?: (ms: number) => Promise<void> }) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey || undefined;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  get hasApiKey(): boolean {
    return this.apiKey !== undefined;
  }

  /** The absolute URL of an API path such as `/sims`. */
  url(path: string, query: Query = {}): string {
    const url = new URL(`${this.baseUrl}/api/v1${path}`);
    for (const [name, value] of Object.entries(query)) {
      if (value === undefined || value === null || value === '') continue;
      if (Array.isArray(value)) {
        if (value.length) url.searchParams.set(name, value.join(','));
      } else {
        url.searchParams.set(name, String(value));
      }
    }
    return url.toString();
  }

  /** Sends one request; throws `ApiError` for answers other than 2xx and `ConnectionError` when nobody answers. */
  async send<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const url = this.url(path, options.query);
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json', 'user-agent': 'meridian-cli', ...options.headers };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    let body: string | undefined;
    if (options.text !== undefined) {
      body = options.text;
      headers['content-type'] = options.contentType ?? 'text/plain';
    } else if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] = 'application/json';
    }
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(url, { method, headers, body });
      } catch (e) {
        throw new ConnectionError(this.baseUrl, connectionReason(e));
      }
      // NOTE: a rate-limited request was refused before it ran, so sending it again is safe even for POST.
      if (response.status === 429 && attempt < MAX_RATE_LIMIT_RETRIES) {
        await response.body?.cancel();
        const wait = Number(response.headers.get('retry-after'));
        await this.sleep(1000 * Math.min(Number.isFinite(wait) && wait > 0 ? wait : 1, MAX_RETRY_WAIT_SECONDS));
        continue;
      }
      const data = options.binary && response.ok ? Buffer.from(await response.arrayBuffer()) : await readBody(response);
      if (!response.ok) throw toApiError(response, data);
      return { status: response.status, headers: response.headers, data: data as T };
    }
  }

  async get<T>(path: string, query?: Query): Promise<T> {
    return (await this.send<T>('GET', path, { query })).data;
  }

  async post<T>(path: string, json?: unknown, options: Omit<RequestOptions, 'json'> = {}): Promise<T> {
    return (await this.send<T>('POST', path, { ...options, json })).data;
  }

  async patch<T>(path: string, json: unknown): Promise<T> {
    return (await this.send<T>('PATCH', path, { json })).data;
  }

  async put<T>(path: string, json: unknown): Promise<T> {
    return (await this.send<T>('PUT', path, { json })).data;
  }

  async delete(path: string): Promise<void> {
    await this.send<unknown>('DELETE', path);
  }

  /** Every item of a cursor-paginated list, following `nextCursor` to the end. */
  async all<T>(path: string, query: Query = {}, pageSize = 1000): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | number | null | undefined = (query.cursor as string | undefined) ?? undefined;
    do {
      const page: Page<T> = await this.get<Page<T>>(path, { ...query, limit: query.limit ?? pageSize, cursor: cursor === undefined || cursor === null ? undefined : String(cursor) });
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null && cursor !== undefined);
    return items;
  }
}

async function readBody(response: Response): Promise<unknown> {
  if (response.status === 204) return undefined;
  const text = await response.text();
  if (!text) return undefined;
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

function toApiError(response: Response, body: unknown): ApiError {
  if (isProblem(body)) {
    const detail = typeof body.detail === 'string' ? body.detail : typeof body.title === 'string' ? body.title : response.statusText;
    return new ApiError(response.status, body.code, detail, body);
  }
  const text = typeof body === 'string' ? body.trim().slice(0, 200) : '';
  return new ApiError(response.status, `http_${response.status}`, text || response.statusText || 'unexpected answer from the server', body);
}
