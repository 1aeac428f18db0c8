// The browser-mode access token: 32 random bytes, hex. Compared in constant time so a remote
// client cannot learn it byte by byte from response timing.
import { randomBytes, timingSafeEqual } from 'node:crypto';

export function newAccessToken(): string {
  return randomBytes(32).toString('hex');
}

export function tokenMatches(expected: string, given: string | null | undefined): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
