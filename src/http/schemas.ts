import { z } from 'zod';

/** Shared parts of the API's zod contracts (validation, types and the OpenAPI document come from them). */
export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string().describe('stable machine-readable error code, snake_case'),
    detail: z.string().describe('what is wrong and what is allowed'),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .passthrough()
  .meta({ id: 'Problem' });

export const problems = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, ProblemSchema]));

export const limitSchema = z.coerce.number().int().min(1).max(1000).default(100).describe('page size, 1-1000');
export const cursorSchema = z.string().max(500).optional().describe('nextCursor of the previous page');

export const Timestamp = z.iso.datetime().describe('RFC 3339 time, UTC');
export const iso = (d: Date): string => d.toISOString();
export const isoOrNull = (d: Date | null): string | null => (d ? d.toISOString() : null);

export const IdParam = z.object({ id: z.string().min(1).max(100) });

/** A comma-separated query parameter as a list (`?state=active,suspended`). */
export const csvList = <T extends z.ZodType<string, string>>(item: T) =>
  z
    .string()
    .transform((s) => s.split(',').map((v) => v.trim()).filter(Boolean))
    .pipe(z.array(item));

export const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

/** Cursor of id-ordered lists: the last id of the page, when the page was full. */
export function nextIdCursor<T extends { id: string }>(items: T[], limit: number): string | null {
  return items.length === limit ? (items.at(-1)?.id ?? null) : null;
}
