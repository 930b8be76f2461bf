/**
 * A share (0–1) as a percentage with the precision that matters: one decimal (289 rejected rows
 * of 70,000 are 0.4%, not 0%), two significant digits below 0.1% (1 of 70,000 is 0.0014%); only
 * nothing is 0%. The dashboard writes shares the same way (web/format.js).
 */
export function formatShare(share: number): string {
  const p = share * 100;
  if (p === 0) return '0%';
  if (p < 0.1) return `${Number(p.toPrecision(2))}%`;
  return `${p.toFixed(1)}%`;
}
