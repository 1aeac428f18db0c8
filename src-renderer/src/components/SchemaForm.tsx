// A form generated from JSON Schema fields: numbers with their bounds, enums as selects, booleans
// as checkboxes, arrays of enum values as checkbox groups, nested objects as fieldsets. Unset fields show the schema default as placeholder.
import { useId, useState } from 'react';
import { getAt } from '../forms/object-path';
import { type Field, parseNumberInput, rangeText } from '../forms/schema-fields';

export interface SchemaFormProps {
  fields: Field[];
  value: unknown;
  onChange(path: string[], value: unknown): void;
  /** inline problems by dotted path relative to this form's root */
  issues?: ReadonlyMap<string, string>;
  idPrefix?: string;
}

function NumberInput({
  field,
  value,
  onChange,
  id,
  describedBy,
}: {
  field: Extract<Field, { kind: 'number' | 'integer' }>;
  value: unknown;
  onChange: (v: unknown) => void;
  id: string;
  describedBy: string | undefined;
}) {
  // keep what the user typed (e.g. "0." or "-") while it is not yet a number
  const [draft, setDraft] = useState<string | null>(null);
  const shown = draft ?? (typeof value === 'number' ? String(value) : '');
  return (
    <input
      id={id}
      className="input"
      inputMode="decimal"
      value={shown}
      placeholder={field.default !== undefined ? String(field.default) : ''}
      aria-describedby={describedBy}
      onChange={(e) => {
        const n = parseNumberInput(e.target.value);
        setDraft(e.target.value);
        if (n === undefined || Number.isFinite(n)) onChange(n);
        else onChange(e.target.value);
      }}
      onBlur={() => setDraft(null)}
    />
  );
}

function FieldRow({
  field,
  value,
  onChange,
  issues,
  idPrefix,
}: {
  field: Field;
  value: unknown;
  onChange: SchemaFormProps['onChange'];
  issues?: ReadonlyMap<string, string>;
  idPrefix: string;
}) {
  const id = `${idPrefix}-${field.path.join('-')}`;
  const v = getAt(value, field.path);
  const issue = issues?.get(field.path.join('.'));
  const helpId = field.description || issue ? `${id}-help` : undefined;
  const help = (
    <>
      {field.description ? <span className="field-help">{field.description}</span> : null}
      {field.kind === 'number' || field.kind === 'integer' ? (
        <span className="field-help mono">{rangeText(field)}</span>
      ) : null}
      {issue ? (
        <span className="inline-error" role="alert">
          {issue}
        </span>
      ) : null}
    </>
  );
  if (field.kind === 'object') {
    return (
      <fieldset className="form-group">
        <legend>{field.label}</legend>
        {field.description ? <p className="field-help">{field.description}</p> : null}
        {field.fields.map((f) => (
          <FieldRow
            key={f.key}
            field={f}
            value={value}
            onChange={onChange}
            issues={issues}
            idPrefix={idPrefix}
          />
        ))}
      </fieldset>
    );
  }
  let control: React.ReactNode;
  switch (field.kind) {
    case 'number':
    case 'integer':
      control = (
        <NumberInput
          field={field}
          value={v}
          onChange={(x) => onChange(field.path, x)}
          id={id}
          describedBy={helpId}
        />
      );
      break;
    case 'boolean':
      control = (
        <input
          id={id}
          type="checkbox"
          checked={typeof v === 'boolean' ? v : Boolean(field.default)}
          aria-describedby={helpId}
          onChange={(e) => onChange(field.path, e.target.checked)}
        />
      );
      break;
    case 'enum':
      control = (
        <select
          id={id}
          className="input"
          value={v === undefined ? '' : String(v)}
          aria-describedby={helpId}
          onChange={(e) => {
            const opt = field.options.find((o) => String(o) === e.target.value);
            onChange(field.path, e.target.value === '' ? undefined : opt);
          }}
        >
          <option value="">
            {field.default !== undefined ? `default (${String(field.default)})` : '(unset)'}
          </option>
          {field.options.map((o) => (
            <option key={String(o)} value={String(o)}>
              {String(o)}
            </option>
          ))}
        </select>
      );
      break;
    case 'set': {
      // unset shows the default; a toggle writes the chosen options in the schema's order
      const chosen = new Set(Array.isArray(v) ? v : Array.isArray(field.default) ? field.default : []);
      control = (
        <fieldset id={id} className="checkbox-set" aria-describedby={helpId}>
          {field.options.map((o) => (
            <label key={String(o)} className="checkbox-row">
              <input
                type="checkbox"
                checked={chosen.has(o)}
                onChange={(e) => {
                  const next = new Set(chosen);
                  if (e.target.checked) next.add(o);
                  else next.delete(o);
                  onChange(
                    field.path,
                    field.options.filter((x) => next.has(x)),
                  );
                }}
              />
              {String(o)}
            </label>
          ))}
        </fieldset>
      );
      break;
    }
    case 'string':
      control = (
        <input
          id={id}
          className="input"
          value={typeof v === 'string' ? v : ''}
          placeholder={field.default !== undefined ? String(field.default) : ''}
          aria-describedby={helpId}
          onChange={(e) => onChange(field.path, e.target.value === '' ? undefined : e.target.value)}
        />
      );
      break;
    default:
      control = <span className="muted small">edit in the JSON view</span>;
  }
  return (
    <div className={`form-row${issue ? ' has-issue' : ''}`}>
      <label htmlFor={id}>{field.label}</label>
      <div className="form-control">
        {control}
        <div id={helpId} className="field-help-wrap">
          {help}
        </div>
      </div>
    </div>
  );
}

export function SchemaForm({ fields, value, onChange, issues, idPrefix }: SchemaFormProps) {
  const auto = useId().replace(/:/g, '');
  return (
    <div className="schema-form">
      {fields.map((f) => (
        <FieldRow
          key={f.key}
          field={f}
          value={value}
          onChange={onChange}
          issues={issues}
          idPrefix={idPrefix ?? auto}
        />
      ))}
    </div>
  );
}
