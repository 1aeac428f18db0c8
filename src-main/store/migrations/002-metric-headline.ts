// Schema v2: a metric says itself whether it is a headline (shown in run lists), set by the job
// that records it. Stores from v1 get the flag on the metrics v1 showed as headlines.
export const metricHeadline = `
ALTER TABLE metrics ADD COLUMN headline INTEGER NOT NULL DEFAULT 0 CHECK (headline IN (0, 1));
UPDATE metrics SET headline = 1
  WHERE name IN ('ppl', 'tokensPerSecond', 'peakRssBytes', 'targetRatio', 'achievedRatio');
CREATE INDEX metrics_headline_by_run ON metrics(run_id) WHERE headline = 1;
`;
