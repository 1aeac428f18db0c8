/** The two IPC channels between preload and main: invoke-style requests, and pushed events. */
export const CALL_CHANNEL = 'moe:call';
export const EVENT_CHANNEL = 'moe:event';
/** Native folder choice: the renderer asks, the main process shows the dialog and allows the pick. */
export const PICK_CHANNEL = 'moe:pick';

/** What a native folder choice is for: decides the dialog's title and whether it may create one. */
export const PICK_PURPOSES = ['model-folder', 'export-folder'] as const;
export type PickPurpose = (typeof PICK_PURPOSES)[number];
