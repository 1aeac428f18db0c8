import { AppHeader } from './components/AppHeader';
import { ConnectionBanner } from './components/ConnectionBanner';
import { NavTabs } from './components/NavTabs';
import { useHashRoute } from './hooks/use-hash-route';
import { ROUTES, routeFor } from './routes';

export function App() {
  const route = routeFor(useHashRoute());
  const Page = route.component;
  return (
    <div className="app">
      <AppHeader />
      <NavTabs routes={ROUTES} active={route.id} />
      <ConnectionBanner />
      <main className="page" aria-label={route.title}>
        <Page />
      </main>
    </div>
  );
}
