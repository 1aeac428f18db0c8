// The pages of the workbench. A new page is one component plus one line here.
import type { ComponentType } from 'react';
import { ComparePage } from './pages/ComparePage';
import { DatasetsPage } from './pages/DatasetsPage';
import { ModelsPage } from './pages/ModelsPage';
import { OverviewPage } from './pages/OverviewPage';
import { PipelinesPage } from './pages/PipelinesPage';
import { RunsPage } from './pages/RunsPage';
import { SweepsPage } from './pages/SweepsPage';

export interface PageRoute {
  /** Hash path segment: `#/<id>`. */
  id: string;
  title: string;
  component: ComponentType;
}

export const ROUTES: readonly PageRoute[] = [
  { id: 'overview', title: 'Overview', component: OverviewPage },
  { id: 'models', title: 'Models', component: ModelsPage },
  { id: 'datasets', title: 'Data sets', component: DatasetsPage },
  { id: 'pipelines', title: 'Pipelines', component: PipelinesPage },
  { id: 'runs', title: 'Runs', component: RunsPage },
  { id: 'compare', title: 'Compare', component: ComparePage },
  { id: 'sweeps', title: 'Sweeps', component: SweepsPage },
];

export function routeFor(id: string): PageRoute {
  return ROUTES.find((r) => r.id === id) ?? ROUTES[0]!;
}
