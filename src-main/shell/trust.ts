// Which page the desktop shell trusts (may call the API, may be navigated to) and the session /
// web-contents guards that keep every other page out. Typed structurally (no `electron` import) so
// the rules are tested without the Electron binary; src-main/index.ts passes the real objects.

/**
 * Packaged: exactly the renderer's index.html file URL (query and hash aside). Dev: exactly the dev
 * server's origin (scheme, host and port compared whole, so `http://localhost:5173.evil.test` or
 * `http://localhost:51730` never pass as a prefix would let them).
 */
export function trustedUrlCheck(rendererUrl: string, devUrl: string | undefined): (url: string) => boolean {
  if (devUrl) {
    const origin = new URL(devUrl).origin;
    return (url) => {
      try {
        return new URL(url).origin === origin;
      } catch {
        return false;
      }
    };
  }
  return (url) => url.split('#')[0]!.split('?')[0] === rendererUrl;
}

interface PreventableEvent {
  preventDefault(): void;
}

export interface SessionLike {
  setPermissionRequestHandler(
    h: (wc: unknown, permission: string, callback: (ok: boolean) => void) => void,
  ): void;
  setPermissionCheckHandler(h: (wc: unknown, permission: string) => boolean): void;
}

export interface WebContentsLike {
  setWindowOpenHandler(h: () => { action: 'deny' }): void;
  on(
    event: 'will-navigate' | 'will-redirect' | 'will-frame-navigate',
    h: (e: PreventableEvent, url: string) => void,
  ): void;
  on(event: 'will-attach-webview', h: (e: PreventableEvent) => void): void;
}

/** No permission is granted or even reported as granted, and every navigation stays on our page. */
export function lockDownSession(session: SessionLike): void {
  session.setPermissionRequestHandler((_wc, _perm, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}

/** Guards one web contents: no new windows, webviews, or navigation, redirect or frame navigation off our page. */
export function guardWebContents(contents: WebContentsLike, isTrusted: (url: string) => boolean): void {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  const keepOn = (e: PreventableEvent, url: unknown) => {
    // will-frame-navigate passes a details object carrying the url
    const target = typeof url === 'string' ? url : ((e as { url?: string }).url ?? '');
    if (!isTrusted(target)) e.preventDefault();
  };
  contents.on('will-navigate', keepOn);
  contents.on('will-redirect', keepOn);
  contents.on('will-frame-navigate', keepOn);
  contents.on('will-attach-webview', (e) => e.preventDefault());
}
