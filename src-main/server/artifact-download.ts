// GET /files/<runId>/<n>?token=…: the n-th file a run recorded as an artifact, as a download. The
// browser-mode way to take an exported checkpoint off a remote machine; only files the store lists
// as some run's artifacts are served, and only with the page's access token.
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { App } from '../app/services';
import { tokenMatches } from './access-token';

const ROUTE = /^\/files\/(\d+)\/(\d+)$/;

/** Handles the request when it is a download; false when it is not one (the static files go on). */
export async function serveArtifact(
  app: App,
  token: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://local');
  const m = ROUTE.exec(url.pathname);
  if (!m || req.method !== 'GET') return false;
  if (!tokenMatches(token, url.searchParams.get('token'))) {
    res.writeHead(401).end();
    return true;
  }
  let file: string | undefined;
  try {
    file = (await app.handlers['runs.get']({ id: Number(m[1]) })).artifacts[Number(m[2])]?.path;
  } catch {
    file = undefined;
  }
  const stat = file ? fs.statSync(file, { throwIfNoEntry: false }) : undefined;
  if (!file || !stat?.isFile()) {
    res.writeHead(404).end();
    return true;
  }
  res.writeHead(200, {
    'Content-Type': 'application/octet-stream',
    'Content-Length': String(stat.size),
    'Content-Disposition': `attachment; filename="${path.basename(file).replace(/["\\\r\n]/g, '_')}"`,
    'Cache-Control': 'no-store',
  });
  await new Promise<void>((resolve) => {
    fs.createReadStream(file)
      .on('error', () => res.destroy())
      .on('close', resolve)
      .pipe(res);
  });
  return true;
}
