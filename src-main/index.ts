// Electron main process: owns the App (store + engine host), one sandboxed window, the single IPC
// channel routed through the shared dispatch, and the menu. The renderer is the same build that
// browser mode serves; security defaults: context isolation, sandbox, no node integration, CSP
// (meta tag from the build), no navigation, no new windows, no permissions.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  BrowserWindow,
  dialog,
  app as electronApp,
  ipcMain,
  Menu,
  type MenuItemConstructorOptions,
  screen,
  session,
} from 'electron';
import { createApp, type WorkbenchApp } from './app/create-app';
import { dispatch } from './app/dispatch';
import { startFirstRunDemo } from './app/first-run';
import { EVENT_CHANNEL } from './ipc/channels';
import { registerFolderPicker } from './ipc/pick-folder';
import { forwardEvents, registerIpc } from './ipc/register-ipc';
import { appMenuTemplate } from './shell/app-menu';
import { parseLaunchArgs } from './shell/launch-args';
import {
  guardWebContents,
  lockDownSession,
  type SessionLike,
  trustedUrlCheck,
  type WebContentsLike,
} from './shell/trust';
import { readWindowBounds, writeWindowBounds } from './shell/window-bounds';

const here = path.dirname(fileURLToPath(import.meta.url));
const RENDERER_INDEX = path.join(here, '..', 'renderer', 'index.html');
const PRELOAD = path.join(here, '..', 'preload', 'index.cjs');
const DEV_URL = electronApp.isPackaged ? undefined : process.env.ELECTRON_RENDERER_URL;
const RENDERER_URL = DEV_URL ?? pathToFileURL(RENDERER_INDEX).href;

/** Only our own page may call the API or be navigated to. */
const isTrustedUrl = trustedUrlCheck(RENDERER_URL, DEV_URL);

let workbench: WorkbenchApp | null = null;
let mainWindow: BrowserWindow | null = null;

function lockDown(): void {
  lockDownSession(session.defaultSession as unknown as SessionLike);
  electronApp.on('web-contents-created', (_e, contents) =>
    guardWebContents(contents as unknown as WebContentsLike, isTrustedUrl),
  );
}

function createWindow(app: WorkbenchApp): BrowserWindow {
  const areas = screen.getAllDisplays().map((d) => d.workArea);
  const bounds = readWindowBounds(app.home, areas);
  const win = new BrowserWindow({
    ...bounds,
    minWidth: 800,
    minHeight: 560,
    show: false,
    title: 'MoE Workbench',
    webPreferences: {
      preload: PRELOAD,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  if (bounds.maximized) win.maximize();
  win.once('ready-to-show', () => win.show());
  win.on('close', () =>
    writeWindowBounds(app.home, { ...win.getNormalBounds(), maximized: win.isMaximized() }),
  );
  const stopEvents = forwardEvents(app, win.webContents);
  win.on('closed', () => {
    stopEvents();
    if (mainWindow === win) mainWindow = null;
  });
  void (DEV_URL ? win.loadURL(DEV_URL) : win.loadFile(RENDERER_INDEX));
  return win;
}

async function openModelFolder(app: WorkbenchApp): Promise<void> {
  const options = { title: 'Open model folder', properties: ['openDirectory' as const] };
  const picked = mainWindow
    ? await dialog.showOpenDialog(mainWindow, options)
    : await dialog.showOpenDialog(options);
  if (picked.canceled || !picked.filePaths[0]) return;
  // a folder picked in the native dialog is the user's choice: the renderer may name it from now on
  app.allowRoot(picked.filePaths[0]);
  const out = await dispatch(app, 'models.add', { path: picked.filePaths[0] });
  if (!out.ok) {
    dialog.showErrorBox('Could not add the model', out.error.message);
    return;
  }
  const modelId = (out.result as { id: number }).id;
  mainWindow?.webContents.send(EVENT_CHANNEL, { event: 'models.changed', data: { modelId } });
}

async function showAbout(app: WorkbenchApp): Promise<void> {
  const out = await dispatch(app, 'app.info', {});
  const info = out.ok ? (out.result as { appVersion: string; backend: string; storePath: string }) : null;
  const detail = [
    info ? `Compute backend: ${info.backend}` : null,
    info ? `Store: ${info.storePath}` : null,
    `Electron ${process.versions.electron}, Node ${process.versions.node}, Chromium ${process.versions.chrome}`,
  ]
    .filter(Boolean)
    .join('\n');
  const options = {
    type: 'info' as const,
    title: 'About MoE Workbench',
    message: `MoE Workbench ${info?.appVersion ?? ''}`,
    detail,
  };
  await (mainWindow ? dialog.showMessageBox(mainWindow, options) : dialog.showMessageBox(options));
}

async function start(): Promise<void> {
  const args = parseLaunchArgs(process.argv);
  const app = await createApp({ mode: 'electron', home: args.home, backend: args.backend });
  workbench = app;
  lockDown();
  registerIpc(ipcMain, app, isTrustedUrl);
  registerFolderPicker(ipcMain, {
    showOpenDialog: (options) =>
      mainWindow ? dialog.showOpenDialog(mainWindow, options) : dialog.showOpenDialog(options),
    allowRoot: (dir) => app.allowRoot(dir),
    isTrustedUrl,
  });
  const template = appMenuTemplate(
    { openModelFolder: () => void openModelFolder(app), about: () => void showAbout(app) },
    process.platform,
  );
  Menu.setApplicationMenu(Menu.buildFromTemplate(template as MenuItemConstructorOptions[]));
  mainWindow = createWindow(app);
  // A first start on an empty store runs the baseline of the embedded default model right away.
  void startFirstRunDemo(app).catch(() => {});
}

if (!electronApp.requestSingleInstanceLock()) {
  // A second instance would share the store and start its own engine workers: hand over instead.
  electronApp.quit();
} else {
  electronApp.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  electronApp
    .whenReady()
    .then(start)
    .catch((e: unknown) => {
      dialog.showErrorBox('MoE Workbench could not start', e instanceof Error ? e.message : String(e));
      electronApp.exit(1);
    });
  electronApp.on('activate', () => {
    if (workbench && BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow(workbench);
  });
  electronApp.on('window-all-closed', () => {
    if (process.platform !== 'darwin') electronApp.quit();
  });
  let closing = false;
  let closed = false;
  electronApp.on('before-quit', (e) => {
    if (closed || !workbench) return;
    // Stop workers and close the store before the process goes; then quit for real.
    e.preventDefault();
    if (closing) return;
    closing = true;
    void workbench.close().finally(() => {
      closed = true;
      electronApp.quit();
    });
  });
}
