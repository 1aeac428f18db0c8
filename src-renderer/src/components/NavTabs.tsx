import type { PageRoute } from '../routes';

export function NavTabs({ routes, active }: { routes: readonly PageRoute[]; active: string }) {
  return (
    <nav className="nav-tabs" aria-label="Pages">
      {routes.map((r) => (
        <a
          key={r.id}
          href={`#/${r.id}`}
          className="nav-tab"
          aria-current={r.id === active ? 'page' : undefined}
        >
          {r.title}
        </a>
      ))}
    </nav>
  );
}
