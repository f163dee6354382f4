import { randomBytes, randomFillSync } from 'node:crypto';

/** Random bytes for identifiers, drawn from the CSPRNG a few kilobytes at a time instead of eight bytes per call. */
const pool = Buffer.alloc(4096);
let taken = pool.length;

/** A sortable, URL-safe identifier with a readable type prefix, e.g. `acc_01j…`. */
export function newId(prefix: string): string {
  if (taken + 8 > pool.length) {
    randomFillSync(pool);
    taken = 0;
  }
  const random = pool.toString('hex', taken, taken + 8);
  taken += 8;
  const time = Date.now().toString(36).padStart(9, '0');
  return `${prefix}_${time}${random}`;
}

/** A high-entropy secret token (API keys, session tokens). */
export function newSecret(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`;
}
