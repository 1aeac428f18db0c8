// The hatch every heatmap fills a missing value with (in the SVG's <defs>), so "no data" reads the
// same in every view.
export function HatchPattern({ id }: { id: string }) {
  return (
    <pattern id={id} width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
      <rect width="6" height="6" fill="var(--surface-2)" />
      <line x1="0" y1="0" x2="0" y2="6" stroke="var(--border)" strokeWidth="3" />
    </pattern>
  );
}
