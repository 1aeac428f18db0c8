// The whitening thread: SVD-LLM's S = chol(G) with its repair and S⁻¹ (scaling.ts whiteningScale),
// computed off the thread that runs the tfjs products. All of it is single-threaded f64 work
// (Lanczos λmin, shifted Cholesky attempts, the triangular inverse), so on a second core it runs
// while the caller factorises the previous expert. Requests are served one at a time, in order.
import { parentPort } from 'node:worker_threads';
import { EngineError } from '../../errors';
import { type WhiteningOptions, whiteningScale } from './scaling';
import type { WhiteningReply, WhiteningRequest } from './whitening-protocol';

const port = parentPort;
if (!port) throw new Error('whitening-worker must run in a worker thread');

port.on('message', (req: WhiteningRequest) => {
  let reply: WhiteningReply;
  const transfer: ArrayBuffer[] = [];
  try {
    const s = whiteningScale(
      { dim: req.dim, tokens: req.tokens, gram: { rows: req.dim, cols: req.dim, data: req.gram } },
      req.options as WhiteningOptions,
    );
    if (s.kind === 'lower') transfer.push(s.L.data.buffer as ArrayBuffer, s.Linv.data.buffer as ArrayBuffer);
    reply = { id: req.id, ok: true, scale: s };
  } catch (e) {
    const err = e instanceof EngineError ? e : null;
    reply = {
      id: req.id,
      ok: false,
      error: {
        message: e instanceof Error ? e.message : String(e),
        ...(err?.file ? { file: err.file } : {}),
        ...(err?.field ? { field: err.field } : {}),
        ...(err?.hint ? { hint: err.hint } : {}),
      },
    };
  }
  port.postMessage(reply, transfer);
});
