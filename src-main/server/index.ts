export { isLoopbackHost } from './network-host';
export { type RunningServer, type ServerOptions, startServer } from './start-server';
