// How the dashboard talks to the server, and who it is talking as. Every request goes through
// apiFetch (one place to add a credential or a CSRF header); applyRole is the one place that
// decides whether the admin controls show (CSS hides `.admin-only` unless the body is `.admin`).
const TOKEN_KEY = 'cases-etl-token';

/** fetch, with the admin token (when one was given) as a bearer header. */
export async function apiFetch(url, init = {}) {
  const headers = new Headers(init.headers);
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token && !headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
  return fetch(url, { ...init, headers });
}

/** The JSON answer of `url`; an Error with the server's message when it is not 2xx. */
export async function getJson(url, init) {
  const res = await apiFetch(url, init);
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

/** Shows or hides the admin controls for `who` ({ admin, name }) and says who is signed in. */
export function applyRole(who) {
  document.body.classList.toggle('admin', who.admin === true);
  const status = document.getElementById('who');
  status.className = '';
  status.textContent = who.admin ? `Signed in as ${who.name} (admin)` : 'Viewing (read only)';
}

/** Asks the server who the stored token belongs to; forgets a token it refuses. */
export async function checkRole() {
  try {
    const who = await getJson('/api/cases-etl/console/me');
    applyRole(who);
    return who;
  } catch (err) {
    sessionStorage.removeItem(TOKEN_KEY);
    applyRole({ admin: false, name: null });
    const status = document.getElementById('who');
    status.textContent = err.message;
    status.className = 'error';
    return { admin: false, name: null };
  }
}

export function signIn(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
  return checkRole();
}

export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  applyRole({ admin: false, name: null });
}

/** Saves what `url` answers as a file (a link cannot carry the bearer header, so it is fetched). */
export async function download(url, fileName) {
  const res = await apiFetch(url);
  if (!res.ok) throw new Error((await res.json().catch(() => ({}))).error ?? `HTTP ${res.status}`);
  const href = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = href;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}
