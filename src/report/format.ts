/** @file Number and duration formatting shared by the text reporters (terminal, html): one look everywhere. */

/** A fraction in [0, 1] with 4 decimals; '—' when absent. */
export function fmtScore(v: number | undefined): string {
  return v === undefined ? '—' : v.toFixed(4);
}

/** Integers with thousands separators; other numbers to 6 significant digits. */
export function fmtNumber(v: number): string {
  return Number.isInteger(v) ? v.toLocaleString('en-US') : Number(v.toPrecision(6)).toString();
}

/** Durations: "850 ms", "12.3 s", "4 min 05.2 s". */
export function fmtMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const min = Math.floor(ms / 60_000);
  return `${min} min ${((ms - min * 60_000) / 1000).toFixed(1).padStart(4, '0')} s`;
}
