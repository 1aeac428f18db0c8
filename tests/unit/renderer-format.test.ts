// Pure renderer logic: how values read in the UI, form parsing, URL and error handling.
import { describe, expect, it } from 'vitest';
import { formatMetricValue, metricSpec } from '../../src-main/contract/metrics';
import { formatBytes, formatCount } from '../../src-main/contract/units';
import { ApiCallError, describeError } from '../../src-renderer/src/api/api-call-error';
import { apiUrlFromLocation } from '../../src-renderer/src/api/ws-transport';
import { parseSizes } from '../../src-renderer/src/components/GemmParamsForm';
import { gemmRows } from '../../src-renderer/src/components/GemmResultTable';
import { formatDuration, formatHeadline, runSeconds } from '../../src-renderer/src/format/run-format';
import { ROUTES, routeFor } from '../../src-renderer/src/routes';

describe('run formatting', () => {
  it('formats durations across units', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(0.25)).toBe('250 ms');
    expect(formatDuration(4.44)).toBe('4.4 s');
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(125)).toBe('2 min 5 s');
    expect(formatDuration(7260)).toBe('2 h 1 min');
  });

  it('derives a duration from timestamps when the store has none', () => {
    expect(
      runSeconds({ seconds: null, startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:01:30Z' }),
    ).toBe(90);
    expect(runSeconds({ seconds: null, startedAt: '2026-01-01T00:00:00Z', finishedAt: null })).toBeNull();
    expect(runSeconds({ seconds: 3, startedAt: null, finishedAt: null })).toBe(3);
  });

  it('labels headline metrics, known ones first', () => {
    expect(
      formatHeadline({ foo: 1234.5, ppl: 12.345, achievedRatio: 0.3, peakRssBytes: 3 * 1024 ** 3 }),
    ).toEqual(['ppl 12.3', 'kept 70.0%', 'peak 3.0 GiB', 'foo 1,235']);
    // both ratios are removed shares; the headline reads the kept share
    expect(formatHeadline({ targetRatio: 0.25, achievedRatio: 0.249 })).toEqual([
      'target kept 75%',
      'kept 75.1%',
    ]);
    expect(formatHeadline({ 'gflops@512': 23.456 })).toEqual(['23.5 GFLOP/s @512']);
    expect(formatHeadline({ a: 1, b: 2, c: 3 }, 2)).toHaveLength(2);
  });
});

describe('one unit system (contract, shared by CLI and UI)', () => {
  it('prints bytes in binary units and counts with K/M/B', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(5.75e8)).toBe('548.4 MiB');
    expect(formatBytes(3 * 2 ** 30, 2)).toBe('3.00 GiB');
    expect(formatBytes(null)).toBe('—');
    expect(formatCount(1_234_567)).toBe('1.23M');
  });
  it('formats a metric in its vocabulary unit, else in the unit it was recorded with', () => {
    expect(formatMetricValue('peakRssBytes', 5.75e8)).toBe('548.4 MiB');
    expect(formatMetricValue('achievedRatio', 0.25)).toBe('25.0%');
    expect(formatMetricValue('paramsAfter', 2.5e6)).toBe('2.50M');
    expect(formatMetricValue('gflops@64', 3)).toBe('3 GFLOP/s');
    expect(formatMetricValue('custom', 2, 's')).toBe('2 s');
    expect(metricSpec('tokensPerSecond')).toMatchObject({ unit: 'tok/s', headline: true });
    expect(metricSpec('nope')).toBeNull();
  });
});

describe('diagnostics form and result', () => {
  it('parses matrix sizes', () => {
    expect(parseSizes('256, 512 1024')).toEqual([256, 512, 1024]);
    expect(parseSizes('64,')).toEqual([64]);
    expect(parseSizes('64, x')).toBeNull();
    expect(parseSizes('1.5')).toBeNull();
    expect(parseSizes('-8')).toBeNull();
  });

  it('reads GEMM rows from an untyped result, skipping malformed entries', () => {
    expect(
      gemmRows({
        sizes: [
          { size: 64, gflops: 2.5 },
          { size: 'x', gflops: 1 },
          { size: 8, gflops: Number.NaN },
        ],
      }),
    ).toEqual([{ size: 64, gflops: 2.5 }]);
    expect(gemmRows(null)).toEqual([]);
    expect(gemmRows({ sizes: 3 })).toEqual([]);
  });
});

describe('api helpers', () => {
  it('builds the socket URL from the page URL and its token', () => {
    expect(apiUrlFromLocation({ protocol: 'http:', host: '127.0.0.1:7321', search: '?token=ab12' })).toBe(
      'ws://127.0.0.1:7321/api?token=ab12',
    );
    expect(apiUrlFromLocation({ protocol: 'https:', host: 'gpu.box', search: '?x=1&token=a%2Bb' })).toBe(
      'wss://gpu.box/api?token=a%2Bb',
    );
    expect(apiUrlFromLocation({ protocol: 'http:', host: 'h', search: '' })).toBeNull();
  });

  it('describes errors with the first validation issue', () => {
    const e = new ApiCallError('bad_request', "invalid params for 'models.add'", [
      { path: ['path'], message: 'Too small: expected string to have >=1 characters' },
    ]);
    expect(describeError(e)).toBe(
      "invalid params for 'models.add' (path: Too small: expected string to have >=1 characters)",
    );
    expect(describeError(new ApiCallError('not_found', 'run 3 not found'))).toBe('run 3 not found');
    expect(describeError('plain')).toBe('plain');
  });

  it('falls back to the first page for unknown routes', () => {
    expect(routeFor('nope')).toBe(ROUTES[0]);
    expect(routeFor('overview').title).toBe('Overview');
  });
});
