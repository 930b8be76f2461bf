// How the dashboard talks to the server, and who it is talking as. Every request goes through
// apiFetch (one place to add a credential or a CSRF header); applyRole is the one place that
// decides whether the admin controls show (CSS hides `.admin-only` unless the body is `.admin`).
const TOKEN_KEY = 'cases-etl-token';

/**
 * Who this is, as GET /api/cases-etl/session says: how the server signs people in (ETL_AUTH),
 * the name and role, and, signed in by cookie (oidc), the CSRF token every POST must carry.
 */
let session = {
  auth: 'none',
  signedIn: false,
  name: null,
  role: null,
  csrfToken: null,
  signInUrl: null,
  signOutUrl: null,
};

/** fetch, with the typed-in token as a bearer header (not under oidc) and the session's CSRF token on a POST. */
export async function apiFetch(url, init = {}) {
  const headers = new Headers(init.headers);
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token && session.auth !== 'oidc' && !headers.has('authorization'))
    headers.set('authorization', `Bearer ${token}`);
  const method = (init.method ?? 'GET').toUpperCase();
  if (session.csrfToken && method !== 'GET' && method !== 'HEAD') headers.set('x-csrf-token', session.csrfToken);
  return fetch(url, { ...init, headers });
}

/** The JSON answer of `url`; an Error with the server's message when it is not 2xx. */
export async function getJson(url, init) {
  const res = await apiFetch(url, init);
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

/**
 * Shows or hides the admin controls for `who` (the session) and says who is signed in: the token
 * form under `none` and `token`, a sign-in or sign-out link under `oidc`.
 */
export function applyRole(who) {
  const admin = who.role === 'admin';
  document.body.classList.toggle('admin', admin);
  const status = document.getElementById('who');
  status.className = '';
  status.textContent = who.signedIn ? `Signed in as ${who.name} (${who.role})` : 'Viewing (read only)';
  document.getElementById('sign-in').hidden = who.auth === 'oidc';
  document.getElementById('sign-out').hidden = !who.signedIn;
  const line = document.getElementById('session');
  line.replaceChildren();
  const link = (href, text) => Object.assign(document.createElement('a'), { href, textContent: text });
  if (who.auth !== 'oidc') return;
  if (who.signedIn) line.append(`Signed in as ${who.name} (${who.role})`);
  if (who.signOutUrl) line.append(' · ', link(who.signOutUrl, 'Sign out'));
  if (who.signInUrl)
    line.append(link(`${who.signInUrl}?return=${encodeURIComponent('/dashboard' + location.hash)}`, 'Sign in'));
}

/**
 * Asks the server who this is; forgets a typed-in token it does not accept. A typed-in token is
 * also turned into this browser's sign-in cookie (POST), for pages that cannot send a header
 * (the queue board); the cookie is renewed each time the page loads.
 */
export async function checkRole() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  try {
    session =
      token && session.auth !== 'oidc'
        ? await getJson('/api/cases-etl/session', { method: 'POST' }).catch(() => getJson('/api/cases-etl/session'))
        : await getJson('/api/cases-etl/session');
  } catch (err) {
    applyRole(session);
    const status = document.getElementById('who');
    status.textContent = err.message;
    status.className = 'error';
    return session;
  }
  const refused = sessionStorage.getItem(TOKEN_KEY) !== null && !session.signedIn && session.auth !== 'oidc';
  if (refused) sessionStorage.removeItem(TOKEN_KEY);
  applyRole(session);
  if (refused) {
    const status = document.getElementById('who');
    status.textContent = 'That token was not accepted.';
    status.className = 'error';
  }
  return session;
}

export function signIn(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
  return checkRole();
}

export async function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  await apiFetch('/api/cases-etl/session', { method: 'DELETE' }).catch(() => undefined);
  return checkRole();
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
