// Commander argument parsers: the one rule every numeric flag of every command goes through. A bad
// value is a usage error (exit 2); commander prefixes the message with the flag and the value given
// ("option '--ratio <r>' argument '' is invalid."), the parser adds what is allowed. An empty or
// blank value is never a number here, although JavaScript reads Number('') as 0.
import { InvalidArgumentError } from 'commander';

const DIGITS = /^\d+$/;

function integer(value: string, min: number, allowed: string): number {
  const n = Number(value);
  if (!DIGITS.test(value) || !Number.isSafeInteger(n) || n < min) {
    throw new InvalidArgumentError(`expected ${allowed}, got '${value}'`);
  }
  return n;
}

/** A finite decimal number (`0.25`, `1e-3`); blanks, `Infinity`, hex and trailing junk are refused. */
function decimal(value: string, allowed: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || /^\s*0[xob]/i.test(value)) {
    throw new InvalidArgumentError(`expected ${allowed}, got '${value}'`);
  }
  return n;
}

export function positiveInt(value: string): number {
  return integer(value, 1, 'a positive integer');
}

export function nonNegativeInt(value: string): number {
  return integer(value, 0, 'a non-negative integer');
}

export function positiveNumber(value: string): number {
  const n = decimal(value, 'a positive number');
  if (n <= 0) throw new InvalidArgumentError(`expected a positive number, got '${value}'`);
  return n;
}

/** A share removed or kept: 0 included, 1 excluded (a ratio of 1 would remove everything). */
export function unitFraction(value: string): number {
  const allowed = 'a number in [0, 1) such as 0.4';
  const n = decimal(value, allowed);
  if (n < 0 || n >= 1) throw new InvalidArgumentError(`expected ${allowed}, got '${value}'`);
  return n;
}

export function portNumber(value: string): number {
  const n = integer(value, 0, 'a port 0-65535');
  if (n > 65535) throw new InvalidArgumentError(`expected a port 0-65535, got '${value}'`);
  return n;
}

function list(value: string, min: number, allowed: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.some((p) => !DIGITS.test(p) || !Number.isSafeInteger(Number(p)) || Number(p) < min)) {
    throw new InvalidArgumentError(`expected ${allowed}, got '${value}'`);
  }
  return parts.map(Number);
}

/** Indices such as layer numbers (0 is the first). */
export function intList(value: string): number[] {
  return list(value, 0, 'comma-separated non-negative integers such as 0,2,3');
}

/** Sizes and lengths. */
export function positiveIntList(value: string): number[] {
  return list(value, 1, 'comma-separated positive integers such as 256,512');
}
