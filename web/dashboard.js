// The dashboard: reads the JSON API and draws it. Every value goes in as text (textContent),
// never as HTML. It shows ids, counts, codes and file names: the API holds no personal data.
const $ = (id) => document.getElementById(id);
const int = (n) => Number(n).toLocaleString('en-AU');
const when = (iso) => (iso ? new Date(iso).toLocaleString('en-AU', { dateStyle: 'medium', timeStyle: 'short' }) : '—');
let selected = null;

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

async function getJson(url, init) {
  const res = await fetch(url, withSession(init));
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

function row(...cells) {
  const tr = document.createElement('tr');
  tr.append(...cells);
  return tr;
}

async function refresh() {
  try {
    const [health, schools, runs] = await Promise.all([
      getJson('/api/cases-etl/health'),
      getJson('/api/cases-etl/schools'),
      getJson('/api/cases-etl/runs?limit=50'),
    ]);
    $('health').textContent = `${health.status}: ${health.message}`;
    $('health').className = `health ${health.status}`;
    fill(
      'schools',
      schools,
      (s) =>
        row(
          cell(s.school),
          cell(s.lastRun ? String(s.lastRun.id) : '—'),
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
    fill(
      'runs',
      runs,
      (r) => {
        const tr = row(
          cell(String(r.id)),
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
        tr.tabIndex = 0;
        tr.addEventListener('click', () => void show(r.id));
        tr.addEventListener('keydown', (e) => e.key === 'Enter' && void show(r.id));
        return tr;
      },
      'No runs yet.',
    );
    $('updated').textContent = new Date().toLocaleTimeString('en-AU');
    if (selected !== null) await show(selected, false);
  } catch (err) {
    $('health').textContent = `The API did not answer: ${err.message}`;
    $('health').className = 'health unhealthy';
  }
}

/** Whether a run's counts were applied: a failed or dry run only says what it would have done. */
function applied(run) {
  return run.status !== 'failed' && !run.dryRun;
}

async function show(id, scroll = true) {
  if (id !== selected) $('rollback-result').textContent = '';
  selected = id;
  // The run's own address (a notification's "View run" link opens it).
  history.replaceState(null, '', `#run=${id}`);
  for (const tr of document.querySelectorAll('tr.run')) tr.classList.toggle('selected', tr.dataset.run === String(id));
  const { run, files, rejects } = await getJson(`/api/cases-etl/runs/${id}`);
  $('detail').hidden = false;
  $('detail-title').textContent = `Run ${run.id} of school ${run.school}`;
  const published = applied(run);
  $('detail-summary').textContent =
    `${run.status}${run.dryRun ? ' (dry run)' : ''} · ${run.trigger} · started ${when(run.startedAt)} · ` +
    `${int(run.rows)} rows, ${int(run.rejected)} rejected (${(run.errorRate * 100).toFixed(2)}%), ${int(run.held)} held` +
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
  fill('rejects', rejects, (r) =>
    row(cell(r.file), cell(String(r.line), 'n'), cell(r.key ?? ''), cell(r.field ?? ''), cell(r.code), cell(r.message)),
  );
  const undoable = (run.status === 'succeeded' || run.status === 'warning') && !run.dryRun && mayChangeData();
  $('rollback').hidden = !undoable;
  if (!undoable) {
    $('rollback-plan').textContent = '';
    $('confirm').hidden = true;
  }
  if (scroll) $('detail').scrollIntoView({ block: 'start' });
}

async function rollback(dryRun) {
  const token = $('token').value;
  if (token) sessionStorage.setItem('cases-etl-token', token);
  const body = { dryRun, cascade: $('cascade').checked, ...($('reason').value ? { reason: $('reason').value } : {}) };
  const plan = $('rollback-plan');
  plan.className = '';
  try {
    const r = await getJson(`/api/cases-etl/runs/${selected}/rollback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
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

// ---- Sign-in: who this is (GET /api/cases-etl/session), kept apart from the drawing above. ----
let session = {
  auth: 'none',
  signedIn: false,
  name: null,
  role: null,
  csrfToken: null,
  signInUrl: null,
  signOutUrl: null,
};

/** `init` with what proves who this is: a typed-in token (not under oidc), and the CSRF token on a POST signed in by cookie. */
function withSession(init = {}) {
  const headers = { ...init.headers };
  const token = sessionStorage.getItem('cases-etl-token');
  if (token && session.auth !== 'oidc' && !headers.authorization) headers.authorization = `Bearer ${token}`;
  if (session.csrfToken && (init.method ?? 'GET') !== 'GET') headers['x-csrf-token'] = session.csrfToken;
  return { ...init, headers };
}

/** Admin controls show for an admin, and, with tokens, for whoever may type an admin token in. */
function mayChangeData() {
  return session.role === 'admin' || (session.auth !== 'oidc' && session.role !== 'viewer');
}

async function loadSession() {
  session = await getJson('/api/cases-etl/session').catch(() => session);
  const line = $('session');
  line.replaceChildren();
  const link = (href, text) => Object.assign(document.createElement('a'), { href, textContent: text });
  if (session.signedIn) line.append(`Signed in as ${session.name} (${session.role})`);
  if (session.signOutUrl) line.append(' · ', link(session.signOutUrl, 'Sign out'));
  if (session.signInUrl) line.append(link(session.signInUrl, 'Sign in'));
  if (session.auth === 'token') line.append(...tokenControls());
  // Signed in as an admin, the rollback form needs no token typed in.
  const admin = session.signedIn && session.role === 'admin';
  $('token-label').hidden = admin;
  $('token').required = !admin;
}

/** With ETL_AUTH=token: a box to type a token into (kept for this tab only), or a button to forget it. */
function tokenControls() {
  const button = (id, text, onClick) => {
    const b = Object.assign(document.createElement('button'), { type: 'button', id, textContent: text });
    b.addEventListener('click', () => void onClick().then(loadSession).then(refresh));
    return b;
  };
  if (session.signedIn)
    return [' · ', button('forget-token', 'Forget token', async () => sessionStorage.removeItem('cases-etl-token'))];
  const input = Object.assign(document.createElement('input'), { id: 'session-token', type: 'password' });
  input.autocomplete = 'off';
  const label = Object.assign(document.createElement('label'), { textContent: 'Access token ' });
  label.append(input);
  return [
    label,
    ' ',
    button('use-token', 'Use token', async () => sessionStorage.setItem('cases-etl-token', input.value)),
  ];
}

$('token').value = sessionStorage.getItem('cases-etl-token') ?? '';
$('rollback').addEventListener('submit', (e) => {
  e.preventDefault();
  void rollback(true);
});
$('confirm').addEventListener('click', () => void rollback(false));
$('refresh').addEventListener('click', () => void refresh());
setInterval(() => void refresh(), 30_000);
await loadSession();
void refresh();
const linked = /^#run=(\d+)$/.exec(location.hash);
if (linked) void show(Number(linked[1]));
