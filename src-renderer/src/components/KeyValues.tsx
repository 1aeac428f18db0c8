/** A labelled list of facts; `wide` gives long values (architecture names, paths) room. */
export function KeyValues({
  items,
  label,
  wide,
}: {
  items: [string, React.ReactNode][];
  label: string;
  wide?: boolean;
}) {
  return (
    <dl className={wide ? 'kv wide' : 'kv'} aria-label={label}>
      {items.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
