import type { Executor } from './database.ts';

/** A LIKE pattern matching every string that starts with `prefix` (`%`, `_` and `\` taken literally). */
export const likePrefix = (prefix: string): string => `${prefix.replace(/[\\%_]/g, '\\$&')}%`;

/** Subquery: ids of the account at `path` and of all its descendants (tenancy scope). */
export const accountIdsUnder = (db: Executor, path: string) =>
  db.selectFrom('accounts').select('accounts.id').where('accounts.path', 'like', likePrefix(path));
