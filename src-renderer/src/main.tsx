import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { createApiClient } from './api/api-client';
import { ApiProvider } from './api/api-context';
import { chooseTransport } from './api/choose-transport';
import { StartupProblem } from './components/StartupProblem';
import { applyTheme, initialTheme } from './hooks/use-theme';
import './styles/theme.css';
import './styles/app.css';

applyTheme(initialTheme());
const root = createRoot(document.getElementById('root')!);
const choice = chooseTransport(window);
root.render(
  <StrictMode>
    {choice.ok ? (
      <ApiProvider client={createApiClient(choice.transport)}>
        <App />
      </ApiProvider>
    ) : (
      <StartupProblem reason={choice.reason} />
    )}
  </StrictMode>,
);
