// One Content-Security-Policy for every way the renderer is loaded: sent as a header by the
// browser-mode server, and injected as a <meta> into the built index.html (Electron loads it from
// file://). No inline script, no eval, no remote origin; the API socket is same-origin.
// Styles allow 'unsafe-inline' because Monaco injects <style> elements and style attributes at
// runtime (measured: with style-src 'self' the editor logs hundreds of violations and renders
// broken); scripts stay 'self' only. Monaco's editor and JSON workers are same-origin files built
// by Vite (`?worker`), so worker-src needs nothing beyond 'self'.
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** Header-only directives (ignored by browsers when delivered through <meta>). */
export const CONTENT_SECURITY_POLICY_HEADER = `${CONTENT_SECURITY_POLICY}; frame-ancestors 'none'`;
