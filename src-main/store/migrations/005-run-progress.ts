// Schema v5: a running run's latest progress (step, fraction, layer, message) as JSON, written by
// the process that runs it, so a UI in another process (a run started from the CLI) follows it live.
export const runProgress = `
ALTER TABLE runs ADD COLUMN progress_json TEXT;
`;
