import { describeError } from '../api/api-call-error';

export function InlineError({ error, id }: { error: unknown; id?: string }) {
  if (!error) return null;
  return (
    <p className="inline-error" role="alert" id={id}>
      {describeError(error)}
    </p>
  );
}
