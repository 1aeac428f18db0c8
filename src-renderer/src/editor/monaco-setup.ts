// Monaco, bundled locally (no CDN): the editor with its standard contributions, the JSON language
// service, and its web workers built by Vite (`?worker`), so the CSP only has to allow same-origin
// workers.
// Every editor contribution and the services they need must be registered before the first
// editor exists: the JSON mode loads `internal/common/workers` (which imports all contributions)
// lazily, and contributions registered after start-up fail with "depends on UNKNOWN service".
import 'monaco-editor/features/register.all';
import 'monaco-editor/internal/common/workers';
import * as monaco from 'monaco-editor/editor/editor.api';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import JsonWorker from 'monaco-editor/language/json/json.worker?worker';
import { jsonDefaults } from 'monaco-editor/languages/features/json/register';

self.MonacoEnvironment = {
  getWorker: (_id: string, label: string) => (label === 'json' ? new JsonWorker() : new EditorWorker()),
};

export { jsonDefaults, monaco };
