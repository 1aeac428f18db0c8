// Which bind addresses stay on this machine, and what host to print in the URL for a bind address.
import os from 'node:os';

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || h.startsWith('127.') || h === '::ffff:127.0.0.1';
}

function firstExternalIPv4(): string | null {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return null;
}

/** A host that a browser can use for a server bound to `bindHost`. */
export function urlHostFor(bindHost: string): string {
  const wildcard = bindHost === '0.0.0.0' || bindHost === '::' || bindHost === '';
  const host = wildcard ? (firstExternalIPv4() ?? '127.0.0.1') : bindHost;
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
