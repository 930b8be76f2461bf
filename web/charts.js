// The console's charts, drawn with uPlot (served by the app from its own node_modules). Each
// chart's data is also kept on window.__charts[name] ({ runs, series: { label: values } }) and its
// point count on the figure's data-points, so a test (or a curious operator) can read what is drawn.
import { int, percent } from './format.js';

const COLOURS = ['#0969da', '#1a7f37', '#9a6700', '#cf222e', '#8250df', '#bc4c00', '#1b7c83', '#57606a'];
const HEIGHT = 180;
const drawn = new Map();
window.__charts = {};

/** A failed or dry run only says what it would have done: its changes are not drawn as done. */
const applied = (run) => run.status !== 'failed' && !run.dryRun;

/** Draws every chart for one school's answer of /api/cases-etl/console/charts. */
export function drawCharts(data) {
  const runs = data.runs;
  const x = runs.map((r) => Date.parse(r.startedAt) / 1000);
  const ids = runs.map((r) => r.id);
  const limit = data.maxErrorRate * 100;
  draw('rows', ids, x, [{ label: 'Rows', values: runs.map((r) => r.rows) }]);
  draw(
    'changes',
    ids,
    x,
    ['inserted', 'updated', 'deactivated', 'held'].map((k) => ({
      label: k[0].toUpperCase() + k.slice(1),
      values: runs.map((r) => (applied(r) ? r[k] : null)),
    })),
  );
  draw('errors', ids, x, [
    { label: 'Rejected', values: runs.map((r) => r.rejected) },
    { label: 'Error rate %', scale: '%', values: runs.map((r) => r.errorRate * 100), format: (v) => percent(v / 100) },
    { label: 'Limit %', scale: '%', dash: [6, 4], values: runs.map(() => limit), format: (v) => percent(v / 100) },
  ]);
  draw('duration', ids, x, [
    { label: 'Seconds', values: runs.map((r) => (r.durationMs === null ? null : r.durationMs / 1000)) },
  ]);
  const at = new Map(ids.map((id, i) => [id, i]));
  const tables = data.tables.map((t) => {
    const values = ids.map(() => null);
    for (const p of t.points) if (at.has(p.runId)) values[at.get(p.runId)] = p.rows;
    return { label: t.table, values };
  });
  // Log scale: a small table shrinking by half shows as plainly as a large one.
  draw('tables', ids, x, tables, { log: true });
  describeShrinking(data.tables);
}

/** Names the tables whose latest full file is more than 10% below their largest in the window. */
function describeShrinking(tables) {
  const notes = [];
  for (const t of tables) {
    const rows = t.points.map((p) => p.rows);
    if (rows.length < 2) continue;
    const last = rows[rows.length - 1];
    const most = Math.max(...rows);
    if (last < most * 0.9)
      notes.push(`${t.table}: ${int(last)} rows, ${percent((most - last) / most)} below ${int(most)}`);
  }
  const p = document.getElementById('shrinking');
  p.textContent = notes.length ? `Shrinking: ${notes.join('; ')}.` : 'No table shrank by more than 10%.';
  p.className = notes.length ? 'error' : '';
}

function draw(name, ids, x, series, options = {}) {
  const figure = document.getElementById(`chart-${name}`);
  const target = figure.querySelector('.plot');
  drawn.get(name)?.destroy();
  window.__charts[name] = { runs: ids, series: Object.fromEntries(series.map((s) => [s.label, s.values])) };
  figure.dataset.points = String(x.length);
  const last = series.map((s) => `${s.label} ${s.values.at(-1) ?? '—'}`).join(', ');
  target.setAttribute('role', 'img');
  target.setAttribute(
    'aria-label',
    `${figure.querySelector('figcaption').textContent}: ${x.length} runs${x.length ? `; latest: ${last}` : ''}`,
  );
  if (x.length === 0) {
    target.textContent = 'No finished runs in these nights.';
    drawn.delete(name);
    return;
  }
  target.textContent = '';
  const scales = { x: { time: true } };
  const axes = [{}, { scale: 'y', size: 70 }];
  if (options.log) scales.y = { distr: 3 };
  if (series.some((s) => s.scale === '%')) {
    scales['%'] = {
      range: (_u, _min, max) => [0, Math.max(max, series.find((s) => s.label === 'Limit %')?.values[0] ?? 0) * 1.1],
    };
    axes.push({
      scale: '%',
      side: 1,
      grid: { show: false },
      size: 50,
      values: (_u, ticks) => ticks.map((t) => `${t}%`),
    });
  }
  const plot = new window.uPlot(
    {
      width: Math.max(200, target.clientWidth),
      height: HEIGHT,
      scales,
      axes,
      series: [
        { label: 'Started' },
        ...series.map((s, i) => ({
          label: s.label,
          scale: s.scale ?? 'y',
          stroke: COLOURS[i % COLOURS.length],
          width: 2,
          dash: s.dash,
          points: { size: 5 },
          ...(s.format ? { value: (_u, v) => (v === null ? '—' : s.format(v)) } : {}),
        })),
      ],
    },
    [x, ...series.map((s) => (options.log ? s.values.map((v) => (v > 0 ? v : null)) : s.values))],
    target,
  );
  drawn.set(name, plot);
}

/** Fits every chart to its box again (the window was resized or turned). */
export function resizeCharts() {
  for (const [name, plot] of drawn) {
    const target = document.getElementById(`chart-${name}`).querySelector('.plot');
    plot.setSize({ width: Math.max(200, target.clientWidth), height: HEIGHT });
  }
}
