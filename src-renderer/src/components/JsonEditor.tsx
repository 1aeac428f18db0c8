// A Monaco JSON editor bound to a string value and (optionally) a JSON Schema for validation and
// completion. Monaco is loaded lazily, the first time an editor is shown.
import { useEffect, useRef, useState } from 'react';
import { useDocumentTheme } from '../hooks/use-document-theme';

type MonacoModule = typeof import('../editor/monaco-setup');
let loading: Promise<MonacoModule> | null = null;
const loadMonaco = () => {
  loading ??= import('../editor/monaco-setup');
  return loading;
};

export interface JsonEditorProps {
  value: string;
  onChange?: (text: string) => void;
  /** the model URI the schema is attached to, unique per editor */
  uri: string;
  schema?: unknown;
  readOnly?: boolean;
  label: string;
  height?: number;
}

export function JsonEditor({ value, onChange, uri, schema, readOnly, label, height = 420 }: JsonEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const editorRef = useRef<import('monaco-editor/editor/editor.api').editor.IStandaloneCodeEditor | null>(
    null,
  );
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;
  const [monacoMod, setMonacoMod] = useState<MonacoModule | null>(null);
  const [failed, setFailed] = useState<unknown>(null);
  const theme = useDocumentTheme();

  useEffect(() => {
    let alive = true;
    loadMonaco().then(
      (m) => alive && setMonacoMod(m),
      (e: unknown) => alive && setFailed(e),
    );
    return () => {
      alive = false;
    };
  }, []);

  // created once per loaded module and uri: later value/readOnly/label changes go through the effects below
  // biome-ignore lint/correctness/useExhaustiveDependencies: see above
  useEffect(() => {
    if (!monacoMod || !host.current) return;
    const { monaco } = monacoMod;
    const modelUri = monaco.Uri.parse(uri);
    const model = monaco.editor.getModel(modelUri) ?? monaco.editor.createModel(value, 'json', modelUri);
    model.setValue(value);
    const editor = monaco.editor.create(host.current, {
      model,
      readOnly: readOnly ?? false,
      minimap: { enabled: false },
      automaticLayout: true,
      scrollBeyondLastLine: false,
      tabSize: 2,
      fontSize: 13,
      ariaLabel: label,
      fixedOverflowWidgets: true,
    });
    editorRef.current = editor;
    const sub = editor.onDidChangeModelContent(() => onChangeRef.current?.(editor.getValue()));
    return () => {
      sub.dispose();
      editor.dispose();
      model.dispose();
      editorRef.current = null;
    };
  }, [monacoMod, uri]);

  useEffect(() => {
    const editor = editorRef.current;
    if (!editor || editor.getValue() === value) return;
    // an edit from the other view: replace the text as one undoable edit, keep the cursor
    const model = editor.getModel()!;
    editor.pushUndoStop();
    editor.executeEdits('sync', [{ range: model.getFullModelRange(), text: value }]);
    editor.pushUndoStop();
  }, [value]);

  useEffect(() => {
    if (!monacoMod || schema === undefined) return;
    const current = monacoMod.jsonDefaults.diagnosticsOptions.schemas ?? [];
    const schemaUri = `${uri}.schema.json`;
    monacoMod.jsonDefaults.setDiagnosticsOptions({
      validate: true,
      allowComments: false,
      enableSchemaRequest: false,
      schemas: [
        ...current.filter((s) => s.uri !== schemaUri),
        { uri: schemaUri, fileMatch: [uri], schema: schema as object },
      ],
    });
  }, [monacoMod, schema, uri]);

  useEffect(() => {
    monacoMod?.monaco.editor.setTheme(theme === 'dark' ? 'vs-dark' : 'vs');
  }, [monacoMod, theme]);

  return (
    <div className="json-editor" style={{ height }} data-testid="json-editor">
      {failed ? <p className="inline-error">The editor failed to load: {String(failed)}</p> : null}
      <div ref={host} className="json-editor-host" />
    </div>
  );
}
