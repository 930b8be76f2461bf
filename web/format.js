// How the dashboard writes numbers and times (en-AU).

export const int = (n) => Number(n).toLocaleString('en-AU');

export const when = (iso) =>
  iso ? new Date(iso).toLocaleString('en-AU', { dateStyle: 'medium', timeStyle: 'short' }) : '—';

/**
 * A share as a percentage with the precision that matters: one decimal (289 of 70,000 is 0.4%,
 * not 0%), and two significant digits below 0.1% (1 of 70,000 is 0.0014%). Only nothing is 0%.
 */
export function percent(rate) {
  const p = Number(rate) * 100;
  if (p === 0) return '0%';
  if (p < 0.1) return `${Number(p.toPrecision(2))}%`;
  return `${p.toFixed(1)}%`;
}
