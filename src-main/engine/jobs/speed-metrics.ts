// How a speed measurement is recorded: the same metric names for an eval.speed run and for the
// compressed model of a compress run, `…Before` for the original a compress run measured too, and
// one layer record per decoder layer (FLOPs split and measured experts per token).
import type { SpeedResult } from '../eval/speed';
import type { JobRecorder } from './job-context';

export function recordSpeed(rec: JobRecorder, r: SpeedResult, which: 'model' | 'before'): void {
  const sfx = which === 'before' ? 'Before' : '';
  const headline = which === 'model';
  rec.metric(`prefillTokensPerSecond${sfx}`, r.prefillTokensPerSecond, { headline });
  rec.metric(`decodeTokensPerSecond${sfx}`, r.decodeTokensPerSecond, { headline });
  rec.metric(`flopsPerToken${sfx}`, r.flops.flopsPerToken, { headline });
  if (which === 'model') {
    rec.metric('peakTensorBytes', r.peakTensorBytes);
    rec.metric('kvCacheBytes', r.kvCacheBytes);
  }
}

/** Per-layer FLOPs as layer records (`step` keeps them apart from a compress run's step records). */
export function recordSpeedLayers(rec: JobRecorder, r: SpeedResult, step = 0): void {
  for (const l of r.flops.layers) {
    rec.layer(
      l.layer,
      {
        flopsPerToken: l.flopsPerToken,
        attentionFlops: l.attention,
        ffnFlops: l.ffn,
        ...(l.expertsPerToken !== null ? { expertsPerToken: l.expertsPerToken } : {}),
      },
      null,
      step,
    );
  }
}
