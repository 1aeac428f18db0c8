// The main window's last size and position, kept as a small JSON in the app home. Whatever is in
// the file is checked: a corrupt file or a window left on an unplugged display opens at defaults.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface WindowBounds {
  x?: number;
  y?: number;
  width: number;
  height: number;
  maximized: boolean;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const WINDOW_STATE_FILE = 'window-state.json';
export const DEFAULT_BOUNDS: WindowBounds = { width: 1360, height: 880, maximized: false };
const MIN = { width: 800, height: 560 };

const finiteInt = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : undefined;

export function sanitizeBounds(raw: unknown): WindowBounds {
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const width = Math.min(Math.max(finiteInt(o.width) ?? DEFAULT_BOUNDS.width, MIN.width), 16384);
  const height = Math.min(Math.max(finiteInt(o.height) ?? DEFAULT_BOUNDS.height, MIN.height), 16384);
  const x = finiteInt(o.x);
  const y = finiteInt(o.y);
  const bounds: WindowBounds = { width, height, maximized: o.maximized === true };
  if (x !== undefined && y !== undefined) Object.assign(bounds, { x, y });
  return bounds;
}

/** Whether at least a grabbable part (100x50 px of the title area) lies on one of the work areas. */
export function isReachable(b: WindowBounds, workAreas: readonly Rect[]): boolean {
  if (b.x === undefined || b.y === undefined) return true;
  const { x, y } = b;
  return workAreas.some(
    (a) => x + 100 <= a.x + a.width && x + b.width - 100 >= a.x && y >= a.y && y + 50 <= a.y + a.height,
  );
}

export function readWindowBounds(home: string, workAreas: readonly Rect[]): WindowBounds {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path.join(home, WINDOW_STATE_FILE), 'utf8'));
  } catch {
    return DEFAULT_BOUNDS;
  }
  const b = sanitizeBounds(raw);
  if (isReachable(b, workAreas)) return b;
  const { x: _x, y: _y, ...rest } = b;
  return rest;
}

export function writeWindowBounds(home: string, bounds: WindowBounds): void {
  try {
    writeFileSync(path.join(home, WINDOW_STATE_FILE), `${JSON.stringify(sanitizeBounds(bounds))}\n`);
  } catch {
    // losing the window position is not worth an error dialog on quit
  }
}
