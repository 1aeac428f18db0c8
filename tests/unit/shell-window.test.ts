// Desktop-shell logic that needs no Electron: remembered window bounds, launch flags, the menu.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { appMenuTemplate, type MenuItem } from '../../src-main/shell/app-menu';
import { parseLaunchArgs } from '../../src-main/shell/launch-args';
import {
  DEFAULT_BOUNDS,
  readWindowBounds,
  sanitizeBounds,
  WINDOW_STATE_FILE,
  writeWindowBounds,
} from '../../src-main/shell/window-bounds';

const SCREEN = [{ x: 0, y: 0, width: 1920, height: 1080 }];
const homes: string[] = [];
const tmpHome = () => {
  const h = mkdtempSync(path.join(os.tmpdir(), 'moe-shell-'));
  homes.push(h);
  return h;
};
afterEach(() => {
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

describe('window bounds', () => {
  it('round-trips through the home folder', () => {
    const home = tmpHome();
    writeWindowBounds(home, { x: 40, y: 30, width: 1200, height: 900, maximized: true });
    expect(readWindowBounds(home, SCREEN)).toEqual({
      x: 40,
      y: 30,
      width: 1200,
      height: 900,
      maximized: true,
    });
  });

  it('uses defaults for a missing or corrupt file', () => {
    const home = tmpHome();
    expect(readWindowBounds(home, SCREEN)).toEqual(DEFAULT_BOUNDS);
    writeFileSync(path.join(home, WINDOW_STATE_FILE), '{"width": ');
    expect(readWindowBounds(home, SCREEN)).toEqual(DEFAULT_BOUNDS);
  });

  it('clamps sizes and drops junk', () => {
    expect(sanitizeBounds({ width: 10, height: 1e9, x: 'a', y: 3, maximized: 'yes' })).toEqual({
      width: 800,
      height: 16384,
      maximized: false,
    });
  });

  it('forgets a position that is off every display', () => {
    const home = tmpHome();
    writeWindowBounds(home, { x: 3000, y: 200, width: 1000, height: 700, maximized: false });
    expect(readWindowBounds(home, SCREEN)).toEqual({ width: 1000, height: 700, maximized: false });
    const second = [...SCREEN, { x: 1920, y: 0, width: 2560, height: 1440 }];
    expect(readWindowBounds(home, second)).toMatchObject({ x: 3000, y: 200 });
  });
});

describe('launch flags', () => {
  it('reads --home and --backend in both spellings', () => {
    expect(parseLaunchArgs(['electron', '.', '--home', '/d', '--backend=wasm'])).toEqual({
      home: '/d',
      backend: 'wasm',
    });
    expect(parseLaunchArgs(['electron', '.'])).toEqual({ home: undefined, backend: undefined });
  });

  it('rejects an unknown backend by name', () => {
    expect(() => parseLaunchArgs(['--backend', 'tpu'])).toThrow(
      /--backend: expected one of node-gpu, node, wasm, cpu, got 'tpu'/,
    );
  });
});

describe('application menu', () => {
  const labels = (items: MenuItem[]): string[] =>
    items.flatMap((i) => [...(i.label ? [i.label] : []), ...labels(i.submenu ?? [])]);

  it('offers open-model-folder and about on every platform, wired to the actions', () => {
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      const hits: string[] = [];
      const menu = appMenuTemplate(
        { openModelFolder: () => hits.push('open'), about: () => hits.push('about') },
        platform,
      );
      const all = labels(menu);
      expect(all, platform).toContain('Open Model Folder…');
      expect(
        all.filter((l) => l === 'About MoE Workbench'),
        platform,
      ).toHaveLength(1);
      const find = (items: MenuItem[], label: string): MenuItem | undefined =>
        items.map((i) => (i.label === label ? i : find(i.submenu ?? [], label))).find(Boolean);
      find(menu, 'Open Model Folder…')!.click!();
      find(menu, 'About MoE Workbench')!.click!();
      expect(hits).toEqual(['open', 'about']);
    }
  });
});
