// Browser mode: one plain node:http server on one port serving the built renderer and the
// WebSocket API at /api, guarded by a random token that travels in the page URL.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App } from '../app/services';
import { newAccessToken } from './access-token';
import { serveArtifact } from './artifact-download';
import { urlHostFor } from './network-host';
import { serveStatic } from './static-files';
import { createWsApi } from './ws-api';

export interface ServerOptions {
  /** 0 picks a free port. */
  port: number;
  /** Bind address; loopback unless the user asks otherwise. */
  host?: string;
  /** Folder holding the built renderer (index.html + assets/). */
  rendererDir: string;
  /** Fixed token (tests); a fresh random one otherwise. */
  token?: string;
}

export interface RunningServer {
  /** The page URL including ?token=. */
  url: string;
  token: string;
  port: number;
  host: string;
  close(): Promise<void>;
}

export async function startServer(app: App, opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token ?? newAccessToken();
  const api = createWsApi(app, token);
  const server = createServer((req, res) => {
    serveArtifact(app, token, req, res)
      .then((served) => (served ? undefined : serveStatic(opts.rendererDir, req, res)))
      .catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  });
  server.on('upgrade', (req, socket, head) => api.handleUpgrade(req, socket, head));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${urlHostFor(host)}:${port}/?token=${token}`;

  let closing: Promise<void> | null = null;
  return {
    url,
    token,
    port,
    host,
    close() {
      closing ??= (async () => {
        await api.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return closing;
    },
  };
}
