export function KeyValues({ items, label }: { items: [string, React.ReactNode][]; label: string }) {
  return (
    <dl className="kv" aria-label={label}>
      {items.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
