// The application menu as plain data (Electron's MenuItemConstructorOptions shape), so it is
// checked without Electron; index.ts hands it to Menu.buildFromTemplate.
export interface MenuItem {
  label?: string;
  role?: string;
  type?: 'separator';
  accelerator?: string;
  click?: () => void;
  submenu?: MenuItem[];
}

export interface MenuActions {
  openModelFolder(): void;
  about(): void;
}

export function appMenuTemplate(actions: MenuActions, platform: NodeJS.Platform): MenuItem[] {
  const mac = platform === 'darwin';
  const about: MenuItem = { label: 'About MoE Workbench', click: actions.about };
  return [
    ...(mac
      ? [{ label: 'MoE Workbench', submenu: [about, { type: 'separator' as const }, { role: 'quit' }] }]
      : []),
    {
      label: 'File',
      submenu: [
        { label: 'Open Model Folder…', accelerator: 'CmdOrCtrl+O', click: actions.openModelFolder },
        { type: 'separator' },
        mac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        { role: 'reload' },
        { role: 'toggleDevTools' },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { role: 'windowMenu' },
    ...(mac ? [] : [{ label: 'Help', submenu: [about] }]),
  ];
}
