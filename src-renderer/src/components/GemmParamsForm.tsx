import { type FormEvent, useId, useState } from 'react';

/** Parses "256, 512 1024" into sizes; null when any entry is not a positive integer. */
export function parseSizes(text: string): number[] | null {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  const sizes = parts.map(Number);
  return sizes.every((n) => Number.isInteger(n) && n > 0) ? sizes : null;
}

export function GemmParamsForm({
  disabled,
  onStart,
}: {
  disabled: boolean;
  onStart: (params: Record<string, unknown>) => void;
}) {
  const sizesId = useId();
  const secondsId = useId();
  const [sizes, setSizes] = useState('');
  const [seconds, setSeconds] = useState('');
  const [problem, setProblem] = useState<string | null>(null);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const params: Record<string, unknown> = {};
    if (sizes.trim()) {
      const parsed = parseSizes(sizes);
      if (!parsed) return setProblem('Matrix sizes must be positive integers, e.g. 256, 512, 1024.');
      params.sizes = parsed;
    }
    if (seconds.trim()) {
      const s = Number(seconds);
      if (!(s > 0)) return setProblem('Seconds per size must be a positive number.');
      params.seconds = s;
    }
    setProblem(null);
    onStart(params);
  };

  return (
    <form className="inline-form" onSubmit={submit} noValidate>
      <div className="field-grid">
        <label htmlFor={sizesId}>Matrix sizes</label>
        <input
          id={sizesId}
          className="input mono"
          value={sizes}
          placeholder="default"
          onChange={(e) => setSizes(e.target.value)}
        />
        <label htmlFor={secondsId}>Seconds per size</label>
        <input
          id={secondsId}
          className="input mono"
          inputMode="decimal"
          value={seconds}
          placeholder="default"
          onChange={(e) => setSeconds(e.target.value)}
        />
      </div>
      {problem ? (
        <p className="inline-error" role="alert">
          {problem}
        </p>
      ) : null}
      <button type="submit" className="button" disabled={disabled}>
        Run GEMM diagnostic
      </button>
    </form>
  );
}
