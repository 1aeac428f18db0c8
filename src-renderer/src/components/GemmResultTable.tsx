// The diagnostics.gemm result: throughput per matrix size. The result arrives as `unknown` from
// the job event, so its shape is checked before use.
type SizeRow = { size: number; gflops: number };

export function gemmRows(result: unknown): SizeRow[] {
  const sizes = (result as { sizes?: unknown } | null)?.sizes;
  if (!Array.isArray(sizes)) return [];
  return sizes.filter(
    (r): r is SizeRow =>
      typeof r?.size === 'number' && typeof r?.gflops === 'number' && Number.isFinite(r.gflops),
  );
}

export function GemmResultTable({ result }: { result: unknown }) {
  const rows = gemmRows(result);
  if (rows.length === 0) return null;
  return (
    <table className="table compact" aria-label="GEMM throughput">
      <thead>
        <tr>
          <th scope="col">Size N</th>
          <th scope="col" className="num">
            GFLOP/s
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.size}>
            <td className="num">{r.size}</td>
            <td className="num">{r.gflops.toFixed(2)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
