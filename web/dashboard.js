// The dashboard: reads the JSON API and draws it. Every value goes in as text (textContent),
// never as HTML. It shows ids, counts, codes and file names: the API holds no personal data.
import { apiFetch, checkRole, download, getJson, signIn, signOut } from './api.js';
import { drawCharts, resizeCharts } from './charts.js';
import { int, percent, when } from './format.js';

const $ = (id) => document.getElementById(id);
const RUNS_PAGE = 25;
const REJECTS_PAGE = 100;
let selected = null;
let runsOffset = 0;
let rejectsOffset = 0;

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  if (className) td.className = className;
  return td;
}

function fill(tableId, rows, build, empty = 'None.') {
  const body = $(tableId).tBodies[0];
  body.replaceChildren(...rows.map(build));
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    const td = cell(empty);
    td.colSpan = $(tableId).tHead.rows[0].cells.length;
    tr.append(td);
    body.append(tr);
  }
}

function row(...cells) {
  const tr = document.createElement('tr');
  tr.append(...cells);
  return tr;
}

/** A cell holding a link to a run (its own address, `#run=<id>`, which a notification's link opens too). */
function runLink(id) {
  const td = document.createElement('td');
  const a = document.createElement('a');
  a.href = `#run=${id}`;
  a.textContent = String(id);
  td.append(a);
  return td;
}

/** `from`–`to` of `total`, for a pager; its buttons enabled where there is more. */
function pager(prefix, offset, shown, total, noun) {
  $(`${prefix}-range`).textContent =
    total === 0 ? `No ${noun}.` : `${int(offset + 1)}–${int(offset + shown)} of ${int(total)} ${noun}`;
  $(`${prefix}-prev`).disabled = offset === 0;
  $(`${prefix}-next`).disabled = offset + shown >= total;
}

/** Puts `schools` in a select, keeping its choice; `first` is the option before them (or none). */
function schoolOptions(select, schools, first) {
  const current = select.value;
  const options = schools.map((s) => new Option(s.school, s.school));
  select.replaceChildren(...(first ? [new Option(first, '')] : []), ...options);
  if ([...select.options].some((o) => o.value === current)) select.value = current;
}

async function refresh() {
  try {
    const [health, schools] = await Promise.all([
      getJson('/api/cases-etl/health'),
      getJson('/api/cases-etl/schools'),
      loadRuns(),
      loadQueue().catch((err) => {
        $('no-queue').hidden = false;
        $('no-queue').textContent = `The queue could not be read: ${err.message}`;
      }),
    ]);
    $('health').textContent = `${health.status}: ${health.message}`;
    $('health').className = `health ${health.status}`;
    fill(
      'schools',
      schools,
      (s) =>
        row(
          cell(s.school),
          s.lastRun ? runLink(s.lastRun.id) : cell('—'),
          cell(s.lastRun?.status ?? '—', `status ${s.lastRun?.status ?? ''}`),
          cell(when(s.lastRun?.finishedAt)),
          cell(s.lastRun ? int(s.lastRun.rows) : '', 'n'),
          cell(s.lastRun ? int(s.lastRun.rejected) : '', 'n'),
          cell(when(s.lastPublishedAt)),
          cell(int(Object.values(s.runs).reduce((a, b) => a + b, 0)), 'n'),
          cell(int(s.rollbacks), 'n'),
        ),
      'No runs yet.',
    );
    schoolOptions($('filter-school'), schools, 'All schools');
    schoolOptions($('run-now-school'), schools, null);
    schoolOptions($('chart-school'), schools, null);
    if ($('chart-school').value) await loadCharts();
    $('updated').textContent = new Date().toLocaleTimeString('en-AU');
    if (selected !== null) await show(selected, false);
  } catch (err) {
    $('health').textContent = `The API did not answer: ${err.message}`;
    $('health').className = 'health unhealthy';
  }
}

async function loadRuns() {
  const query = new URLSearchParams({ limit: String(RUNS_PAGE), offset: String(runsOffset) });
  if ($('filter-school').value) query.set('school', $('filter-school').value);
  if ($('filter-status').value) query.set('status', $('filter-status').value);
  const page = await getJson(`/api/cases-etl/console/runs?${query}`);
  fill(
    'runs',
    page.items,
    (r) => {
      const tr = row(
        runLink(r.id),
        cell(r.school),
        cell(r.status + (r.dryRun ? ' (dry)' : ''), `status ${r.status}`),
        cell(r.trigger),
        cell(when(r.startedAt)),
        cell(r.durationMs === null ? '' : (r.durationMs / 1000).toFixed(1), 'n'),
        cell(int(r.rows), 'n'),
        // A failed or dry run changed nothing: its would-be counts are in the run's detail.
        ...[r.inserted, r.updated, r.deactivated].map((n) => cell(applied(r) ? int(n) : '-', 'n')),
        cell(int(r.held), 'n'),
        cell(int(r.deferred), 'n'),
        cell(int(r.rejected), 'n'),
        cell(r.reason ?? ''),
      );
      tr.className = `run${r.id === selected ? ' selected' : ''}`;
      tr.dataset.run = String(r.id);
      tr.addEventListener('click', (e) => e.target.tagName !== 'A' && void show(r.id));
      return tr;
    },
    'No runs match.',
  );
  pager('runs', runsOffset, page.items.length, page.total, 'runs');
}

async function loadQueue() {
  const state = await getJson('/api/cases-etl/console/queue');
  $('next-run').textContent = state.schedule.nextLocal ?? 'none';
  $('next-run-zone').textContent = `(${state.schedule.timezone}; ${state.schedule.pattern})`;
  $('queue').hidden = state.queue === null;
  $('no-queue').hidden = state.queue !== null;
  $('no-queue').textContent = state.unavailable ?? 'No Redis: this server runs the schedule itself.';
  $('no-queue').className = state.unavailable ? 'error' : '';
  if (state.queue)
    for (const k of ['waiting', 'active', 'delayed', 'failed']) $(`queue-${k}`).textContent = int(state.queue[k]);
  $('board-link').hidden = state.board === null;
  if (state.board) $('board-link').href = state.board;
}

async function loadCharts() {
  const school = $('chart-school').value;
  drawCharts(await getJson(`/api/cases-etl/console/charts?school=${encodeURIComponent(school)}&days=60`));
}

/** Whether a run's counts were applied: a failed or dry run only says what it would have done. */
function applied(run) {
  return run.status !== 'failed' && !run.dryRun;
}

async function show(id, scroll = true) {
  if (id !== selected) {
    $('rollback-result').textContent = '';
    rejectsOffset = 0;
  }
  selected = id;
  // The run's own address (a notification's "View run" link opens it).
  if (location.hash !== `#run=${id}`) history.replaceState(null, '', `#run=${id}`);
  for (const tr of document.querySelectorAll('tr.run')) tr.classList.toggle('selected', tr.dataset.run === String(id));
  const { run, files } = await getJson(`/api/cases-etl/runs/${id}`);
  $('detail').hidden = false;
  $('detail-title').textContent = `Run ${run.id} of school ${run.school}`;
  const published = applied(run);
  $('detail-summary').textContent =
    `${run.status}${run.dryRun ? ' (dry run)' : ''} · ${run.trigger} · started ${when(run.startedAt)} · ` +
    `${int(run.rows)} rows, ${int(run.rejected)} rejected (${percent(run.errorRate)}), ${int(run.held)} held` +
    `${run.deferred > 0 ? `, ${int(run.deferred)} deactivations deferred` : ''}` +
    `${published ? '' : ' · nothing was published: the file counts are what the run would have done'}${run.reason ? ` · ${run.reason}` : ''}`;
  for (const [id, text] of [
    ['files-inserted', 'Inserted'],
    ['files-updated', 'Updated'],
    ['files-inactive', 'Inactive'],
  ]) {
    $(id).textContent = published ? text : `Would be ${text.toLowerCase()}`;
  }
  fill('files', files, (f) =>
    row(
      cell(f.fileName),
      cell(f.table),
      cell(f.mode),
      ...[f.rows, f.inserted, f.updated, f.deactivated, f.unchanged, f.held, f.deferred, f.rejected].map((n) =>
        cell(int(n), 'n'),
      ),
      cell(f.error ?? ''),
    ),
  );
  await loadRejects();
  const undoable = (run.status === 'succeeded' || run.status === 'warning') && !run.dryRun;
  $('rollback').hidden = !undoable;
  if (!undoable) {
    $('rollback-plan').textContent = '';
    $('confirm').hidden = true;
  }
  if (scroll) $('detail').scrollIntoView({ block: 'start' });
}

async function loadRejects() {
  const page = await getJson(`/api/cases-etl/runs/${selected}/rejects?limit=${REJECTS_PAGE}&offset=${rejectsOffset}`);
  fill('rejects', page.items, (r) =>
    row(cell(r.file), cell(String(r.line), 'n'), cell(r.key ?? ''), cell(r.field ?? ''), cell(r.code), cell(r.message)),
  );
  pager('rejects', rejectsOffset, page.items.length, page.total, 'rejected rows');
  $('rejects-csv').hidden = page.total === 0;
}

async function rollback(dryRun) {
  const body = { dryRun, cascade: $('cascade').checked, ...($('reason').value ? { reason: $('reason').value } : {}) };
  const plan = $('rollback-plan');
  plan.className = '';
  try {
    const r = await getJson(`/api/cases-etl/runs/${selected}/rollback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const runs = r.runs.map((x) => x.runId).join(', ');
    if (dryRun) {
      plan.textContent = `Would undo run${r.runs.length > 1 ? 's' : ''} ${runs}: ${int(r.rowsDeleted)} rows removed, ${int(r.rowsRestored)} restored.`;
      $('confirm').hidden = false;
      return;
    }
    plan.textContent = '';
    $('confirm').hidden = true;
    $('rollback-result').textContent =
      `Rolled back (rollback ${r.rollbackId}): run${r.runs.length > 1 ? 's' : ''} ${runs} undone, ${int(r.rowsDeleted)} rows removed, ${int(r.rowsRestored)} restored.`;
    await refresh();
  } catch (err) {
    plan.textContent = err.message;
    plan.className = 'error';
    $('confirm').hidden = true;
  }
}

async function runNow() {
  const out = $('run-now-result');
  out.className = '';
  out.textContent = 'Asking…';
  try {
    const res = await apiFetch('/api/cases-etl/trigger', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ school: $('run-now-school').value, force: $('run-now-force').checked }),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
    out.textContent =
      body.mode === 'queue'
        ? body.created
          ? `Queued (job ${body.jobId}).`
          : `Already queued (job ${body.jobId}).`
        : 'Started on this server.';
    await loadQueue();
  } catch (err) {
    out.textContent = err.message;
    out.className = 'error';
  }
}

$('sign-in').addEventListener('submit', (e) => {
  e.preventDefault();
  void signIn($('token').value)
    .then(() => ($('token').value = ''))
    .then(() => refresh());
});
$('sign-out').addEventListener('click', () => void signOut().then(() => refresh()));
$('rollback').addEventListener('submit', (e) => {
  e.preventDefault();
  void rollback(true);
});
$('confirm').addEventListener('click', () => void rollback(false));
$('run-now').addEventListener('submit', (e) => {
  e.preventDefault();
  void runNow();
});
$('refresh').addEventListener('click', () => void refresh());
$('run-filters').addEventListener('change', () => {
  runsOffset = 0;
  void loadRuns();
});
$('run-filters').addEventListener('submit', (e) => e.preventDefault());
$('runs-prev').addEventListener('click', () => {
  runsOffset = Math.max(0, runsOffset - RUNS_PAGE);
  void loadRuns();
});
$('runs-next').addEventListener('click', () => {
  runsOffset += RUNS_PAGE;
  void loadRuns();
});
$('rejects-prev').addEventListener('click', () => {
  rejectsOffset = Math.max(0, rejectsOffset - REJECTS_PAGE);
  void loadRejects();
});
$('rejects-next').addEventListener('click', () => {
  rejectsOffset += REJECTS_PAGE;
  void loadRejects();
});
$('rejects-csv').addEventListener('click', () =>
  download(`/api/cases-etl/runs/${selected}/rejects.csv`, `run-${selected}-rejects.csv`).catch((err) => {
    $('rejects-range').textContent = err.message;
  }),
);
$('chart-school').addEventListener('change', () => void loadCharts());
addEventListener('resize', () => resizeCharts());

/** Opens the run the address names (`#run=<id>`): a link in a table, or a notification's. */
function followHash() {
  const linked = /^#run=(\d+)$/.exec(location.hash);
  if (linked && Number(linked[1]) !== selected) void show(Number(linked[1]));
}
addEventListener('hashchange', followHash);
setInterval(() => void refresh(), 30_000);
void checkRole();
void refresh();
followHash();
