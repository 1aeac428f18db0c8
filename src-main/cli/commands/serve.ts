// `moe-bench serve`: browser mode. The same services as the desktop app behind a loopback HTTP +
// WebSocket server; the page URL carries the access token. Runs until SIGINT/SIGTERM.
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Command } from 'commander';
import { portNumber } from '../arg-parsers';
import { CliError } from '../cli-error';
import type { CliContext } from '../context';
import { untilStopped } from '../interrupts';

export const DEFAULT_PORT = 7321;

function openInBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '', url]]
        : ['xdg-open', [url]];
  try {
    spawn(cmd, args, { detached: true, stdio: 'ignore' })
      .on('error', () => {})
      .unref();
  } catch {
    // no browser launcher: the URL is printed anyway
  }
}

interface ServeOptions {
  port: number;
  host: string;
  open: boolean;
  firstRunDemo: boolean;
  allowRoot: string[];
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function register(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('serve the workbench UI to a browser (http + WebSocket, token-protected)')
    .option('--port <n>', 'port to listen on (0 = any free port)', portNumber, DEFAULT_PORT)
    .option(
      '--host <addr>',
      'address to bind; anything but loopback exposes the workbench to the network',
      '127.0.0.1',
    )
    .option('--open', 'open the page in the default browser', false)
    .option(
      '--allow-root <dir>',
      'a folder besides the workbench home that browser clients may read and write (repeatable)',
      collect,
      [],
    )
    .option(
      '--first-run-demo',
      'on an empty store, start a baseline run of the embedded default model',
      false,
    )
    .action(async (o: ServeOptions) => {
      const [{ createApp }, { isLoopbackHost, startServer }, { ensureRendererBuilt }] = await Promise.all([
        import('../../app/create-app'),
        import('../../server/index'),
        import('../../server/renderer-build'),
      ]);
      const g = ctx.globals();
      let rendererDir: string;
      try {
        rendererDir = await ensureRendererBuilt({ log: (line) => ctx.progress(line) });
      } catch (e) {
        throw new CliError((e as Error).message.split('\n')[0]!, {
          hint: 'run `npm run build` (or `npm run build:renderer`)',
        });
      }
      const app = await createApp({
        mode: 'browser',
        home: g.home,
        backend: g.backend,
        allowedRoots: o.allowRoot.map((d) => path.resolve(d)),
      });
      let server: Awaited<ReturnType<typeof startServer>>;
      try {
        server = await startServer(app, { port: o.port, host: o.host, rendererDir });
      } catch (e) {
        await app.close();
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') {
          throw new CliError(`port ${o.port} is already in use`, {
            hint: 'pass --port N, or --port 0 for any free port',
          });
        }
        throw e;
      }
      if (!isLoopbackHost(o.host)) {
        ctx.progress(
          `warning: listening on ${o.host}, not loopback: anyone who can reach this address and has the token can use the workbench`,
        );
      }
      if (g.json)
        ctx.io.stdout(`${JSON.stringify({ url: server.url, token: server.token, port: server.port })}\n`);
      else {
        ctx.io.stdout(`MoE Workbench is serving at\n\n  ${server.url}\n\n`);
        ctx.progress(`store: ${app.storePath}\nPress Ctrl+C to stop.`);
      }
      if (o.firstRunDemo) {
        const { startFirstRunDemo, FIRST_RUN_MODEL } = await import('../../app/first-run');
        if (await startFirstRunDemo(app))
          ctx.progress(`first run: started a baseline perplexity run of ${FIRST_RUN_MODEL}`);
      }
      if (o.open) openInBrowser(server.url);
      const signal = await untilStopped(ctx, 'SIGINT: stopping…');
      if (signal === 'SIGTERM') ctx.progress('SIGTERM: stopping…');
      await server.close();
      await app.close();
    });
}
