// The browser-mode HTTP side: what it serves, with which headers, and what it refuses.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentTypeFor } from '../../src-main/server/content-types';
import { type RunningServer, startServer } from '../../src-main/server/index';
import { isLoopbackHost, urlHostFor } from '../../src-main/server/network-host';
import { resolveInside } from '../../src-main/server/static-files';
import { fakeApp } from './server-fake-app';

let parent: string;
let dir: string;
let server: RunningServer;
const INDEX = '<!doctype html><title>workbench</title>';

beforeAll(async () => {
  parent = mkdtempSync(path.join(os.tmpdir(), 'moe-static-'));
  dir = path.join(parent, 'renderer');
  mkdirSync(path.join(dir, 'assets'), { recursive: true });
  writeFileSync(path.join(dir, 'index.html'), INDEX);
  writeFileSync(path.join(dir, 'assets', 'app-1234.js'), 'console.log(1)');
  writeFileSync(path.join(dir, 'assets', 'app-1234.css'), 'body{}');
  writeFileSync(path.join(parent, 'secret.txt'), 'do not serve');
  server = await startServer(fakeApp({}), { port: 0, rendererDir: dir });
});

afterAll(async () => {
  await server?.close();
  rmSync(parent, { recursive: true, force: true });
});

const get = (p: string, init?: RequestInit) => fetch(`http://127.0.0.1:${server.port}${p}`, init);

/** Sends a raw request line, so the path reaches the server exactly as written (fetch normalises). */
function rawStatus(requestPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const sock = connect(server.port, '127.0.0.1', () => {
      sock.write(`GET ${requestPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    });
    let text = '';
    sock.on('data', (d) => {
      text += d.toString();
    });
    sock.on('end', () =>
      resolve({ status: Number(text.split(' ')[1]), body: text.split('\r\n\r\n')[1] ?? '' }),
    );
    sock.on('error', reject);
  });
}

describe('static files', () => {
  it('serves index.html at / with a strict CSP and no-referrer', async () => {
    const res = await get('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    // styles only: Monaco injects <style> elements and style attributes (measured: the editor
    // breaks with 'style-src 'self''); scripts stay strict
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    expect(csp).not.toContain('unsafe-eval');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toBe(INDEX);
  });

  it('serves assets with their content type and long caching', async () => {
    const js = await get('/assets/app-1234.js');
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect(await js.text()).toBe('console.log(1)');
    const css = await get('/assets/app-1234.css');
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('falls back to index.html for extension-less paths only', async () => {
    const page = await get('/runs/12');
    expect(page.status).toBe(200);
    expect(await page.text()).toBe(INDEX);
    expect((await get('/assets/missing-9999.js')).status).toBe(404);
  });

  it('never serves a file outside the renderer folder', async () => {
    for (const p of [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/%2e%2e%5csecret.txt',
    ]) {
      const { status, body } = await rawStatus(p);
      expect(body, p).not.toContain('do not serve');
      expect([200, 400, 404], p).toContain(status);
    }
    expect((await rawStatus('/%E0%A4%A')).status).toBe(400);
  });

  it('answers only GET and HEAD', async () => {
    const post = await get('/', { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const head = await get('/assets/app-1234.js', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('14');
    expect(await head.text()).toBe('');
  });
});

describe('path and host helpers', () => {
  it('confines resolved paths to the root', () => {
    expect(resolveInside('/srv/r', '/assets/a.js')).toBe(path.resolve('/srv/r/assets/a.js'));
    expect(resolveInside('/srv/r', '/../x')).toBe(path.resolve('/srv/r/x'));
    expect(resolveInside('/srv/r', '/a%00b')).toBeNull();
    expect(resolveInside('/srv/r', '/a%5c..%5cb')).toBeNull();
    expect(resolveInside('/srv/r', '/%zz')).toBeNull();
  });

  it('knows content types', () => {
    expect(contentTypeFor('a.WASM')).toBe('application/wasm');
    expect(contentTypeFor('font.woff2')).toBe('font/woff2');
    expect(contentTypeFor('blob.bin')).toBe('application/octet-stream');
  });

  it('tells loopback from network addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]'])
      expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.4', 'example.com']) expect(isLoopbackHost(h), h).toBe(false);
    expect(urlHostFor('::1')).toBe('[::1]');
    expect(urlHostFor('127.0.0.1')).toBe('127.0.0.1');
  });
});

describe('server lifecycle', () => {
  it('unsubscribes from the app and frees the port on close', async () => {
    const app = fakeApp({});
    const s = await startServer(app, { port: 0, rendererDir: dir, token: 'a'.repeat(64) });
    expect(s.url).toBe(`http://127.0.0.1:${s.port}/?token=${'a'.repeat(64)}`);
    expect(app.listenerCount()).toBe(1);
    await s.close();
    await s.close();
    expect(app.listenerCount()).toBe(0);
    await expect(fetch(`http://127.0.0.1:${s.port}/`)).rejects.toThrow();
  });
});
