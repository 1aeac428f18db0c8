/** The two IPC channels between preload and main: invoke-style requests, and pushed events. */
export const CALL_CHANNEL = 'moe:call';
export const EVENT_CHANNEL = 'moe:event';
