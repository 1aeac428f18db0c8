// Serves the built renderer: GET/HEAD only, paths confined to the renderer folder, index.html for
// extension-less paths (the app routes by hash, but a reload on any path should still land in it).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { contentTypeFor } from './content-types';
import { CONTENT_SECURITY_POLICY_HEADER } from './csp';

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY_HEADER,
  'X-Content-Type-Options': 'nosniff',
  // The access token rides in the page URL: never leak it through Referer.
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', ...extra });
  res.end(text);
}

/** The file a URL path names inside `root`, or null when it would escape it or is malformed. */
export function resolveInside(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const rootAbs = path.resolve(root);
  const full = path.resolve(rootAbs, `.${path.posix.normalize(`/${decoded}`)}`);
  return full === rootAbs || full.startsWith(rootAbs + path.sep) ? full : null;
}

async function fileAt(p: string): Promise<{ size: number } | null> {
  try {
    const s = await stat(p);
    return s.isFile() ? { size: s.size } : null;
  } catch {
    return null;
  }
}

export async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendText(res, 405, 'method not allowed', { Allow: 'GET, HEAD' });
    return;
  }
  const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
  let file = resolveInside(root, pathname === '/' ? '/index.html' : pathname);
  if (file === null) {
    sendText(res, 400, 'bad path');
    return;
  }
  let info = await fileAt(file);
  if (!info && path.extname(pathname) === '') {
    file = path.join(root, 'index.html');
    info = await fileAt(file);
  }
  if (!info) {
    sendText(res, 404, 'not found');
    return;
  }
  const hashedAsset = pathname.startsWith('/assets/') && file !== path.join(root, 'index.html');
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'Content-Type': contentTypeFor(file),
    'Content-Length': String(info.size),
    // Hashed asset names never change content; the page itself must always be fresh.
    'Cache-Control': hashedAsset ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}
