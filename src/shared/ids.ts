import { randomBytes } from 'node:crypto';

/** A sortable, URL-safe identifier with a readable type prefix, e.g. `acc_01j…`. */
export function newId(prefix: string): string {
  const time = Date.now().toString(36).padStart(9, '0');
  return `${prefix}_${time}${randomBytes(8).toString('hex')}`;
}

/** A high-entropy secret token (API keys, session tokens). */
export function newSecret(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`;
}
