// The pages of the workbench. A new page is one component plus one line here.
import type { ComponentType } from 'react';
import { OverviewPage } from './pages/OverviewPage';

export interface PageRoute {
  /** Hash path segment: `#/<id>`. */
  id: string;
  title: string;
  component: ComponentType;
}

export const ROUTES: readonly PageRoute[] = [{ id: 'overview', title: 'Overview', component: OverviewPage }];

export function routeFor(id: string): PageRoute {
  return ROUTES.find((r) => r.id === id) ?? ROUTES[0]!;
}
