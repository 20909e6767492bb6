// The client's entry: who is signed in, the hash router, the page frame,
// and the sign-in and account screens. Each role's screens live in their
// own module (student.js, professor.js, admin.js), loaded after sign-in,
// so the first screen carries only what signing in needs.
import { api, get, post, setToken, getToken, whenUnauthorized } from './api.js';
import { html, render, useState, useEffect, useRef, Field, ErrorMsg, Loading, Page, settings, navigate } from './ui.js';

const roleModules = {
  student: () => import('./student.js'),
  professor: () => import('./professor.js'),
  admin: () => import('./admin.js'),
};

// The current route: the part of the hash after "#", "/" when empty.
function currentPath() {
  const p = location.hash.replace(/^#/, '');
  return p.startsWith('/') ? p : '/';
}

// match finds the route for path in routes ({"/courses/:id": Component})
// and returns [Component, params], or null.
export function match(routes, path) {
  const [pathname, query = ''] = path.split('?');
  const parts = pathname.split('/').filter(Boolean);
  for (const [pattern, component] of Object.entries(routes)) {
    const want = pattern.split('/').filter(Boolean);
    if (want.length !== parts.length) continue;
    const params = {};
    let ok = true;
    for (let i = 0; i < want.length; i++) {
      if (want[i].startsWith(':')) params[want[i].slice(1)] = decodeURIComponent(parts[i]);
      else if (want[i] !== parts[i]) { ok = false; break; }
    }
    if (ok) {
      params.query = new URLSearchParams(query);
      return [component, params];
    }
  }
  return null;
}

function usePath() {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const on = () => setPath(currentPath());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return path;
}

function App() {
  const [user, setUser] = useState(undefined); // undefined: finding out; null: signed out
  const [mod, setMod] = useState(null);
  const [modError, setModError] = useState(null);
  const [message, setMessage] = useState('');
  const path = usePath();

  const signOutLocal = (msg) => {
    setToken(null);
    setUser(null);
    setMod(null);
    setMessage(msg || '');
    if (!currentPath().startsWith('/signup')) navigate('#/signin');
  };

  useEffect(() => {
    whenUnauthorized((detail) => signOutLocal(`You have been signed out (${detail.replace(/\.$/, '')}). Please sign in again.`));
    if (!getToken()) { setUser(null); return; }
    get('/api/auth/me').then(setUser).catch(() => { setToken(null); setUser(null); });
  }, []);

  useEffect(() => {
    if (!user) return;
    const load = roleModules[user.role];
    if (!load) { setModError(new Error(`This account's role (${user.role}) has no screens here.`)); return; }
    setModError(null);
    load().then(setMod).catch(() => setModError(new Error('Part of the app could not be loaded. Please reload the page.')));
  }, [user && user.role]);

  const signedIn = (u, msg) => {
    setMessage(msg || '');
    setUser(u);
    if (currentPath().startsWith('/signin') || currentPath().startsWith('/signup')) navigate('#/');
  };

  const signOut = async () => {
    try { await post('/api/auth/logout'); } catch { /* the token goes either way */ }
    signOutLocal('You have signed out.');
  };

  if (user === undefined) return html`<main id="main"><${Loading} /></main>`;

  if (!user) {
    const screen = path.startsWith('/signup') && settings.allowRegistration
      ? html`<${SignUp} onSignedIn=${signedIn} />`
      : html`<${SignIn} onSignedIn=${signedIn} message=${message} />`;
    return html`<${Frame}>${screen}<//>`;
  }

  let body;
  if (modError) body = html`<${ErrorMsg} error=${modError} />`;
  else if (!mod) body = html`<${Loading} />`;
  else {
    const found = match(mod.routes, path);
    if (found) {
      const [Screen, params] = found;
      body = html`<${Screen} key=${path} user=${user} params=${params} path=${path} />`;
    } else {
      body = html`<${Page} title="Page not found"><p>There is nothing at this address. <a href="#/">Go to the start page</a>.</p><//>`;
    }
  }
  // A message after signing in (a welcome) belongs to the first screen: it
  // is not carried to the next one.
  return html`<${Frame} user=${user} nav=${mod ? mod.nav : []} path=${path} onSignOut=${signOut} message=${path === '/' ? message : ''} onDismiss=${() => setMessage('')}>${body}<//>`;
}

// Frame is the page around every screen: a skip link, the header with the
// app's name, the role's navigation and Sign out, and the main region.
function Frame({ user, nav = [], path = '/', onSignOut, message, onDismiss, children }) {
  const current = (href) => {
    const p = href.replace(/^#/, '');
    return p === '/' ? path === '/' : path === p || path.startsWith(p + '/');
  };
  return html`
    <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); const m = document.getElementById('main'); m && m.focus(); }}>Skip to content</a>
    <header class="top">
      <a class="brand" href="#/">${settings.appName}</a>
      ${user && html`<nav aria-label="Main">
        <ul>${nav.map((n) => html`<li><a href=${n.href} aria-current=${current(n.href) ? 'page' : undefined}>${n.label}</a></li>`)}</ul>
      </nav>
      <div class="who">
        <span class="who-name" title=${user.email}>${user.full_name || user.username}</span>
        <button type="button" class="link" onClick=${onSignOut}>Sign out</button>
      </div>`}
    </header>
    <main id="main" tabindex="-1">
      ${user && message && html`<div class="banner" role="status"><p>${message}</p><button type="button" class="link" onClick=${onDismiss}>Dismiss</button></div>`}
      ${children}
    </main>`;
}

// signInWith exchanges credentials for a token and returns the user.
async function signInWith(username, password) {
  const t = await post('/api/auth/login', { username, password });
  setToken(t.access_token);
  try {
    return await get('/api/auth/me');
  } catch (e) {
    setToken(null);
    throw e;
  }
}

function SignIn({ onSignedIn, message }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const form = useRef(null);
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(form.current);
    setBusy(true); setError(null);
    try {
      onSignedIn(await signInWith(String(f.get('username')).trim(), String(f.get('password'))));
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return html`<${Page} title="Sign in">
    <div class="card narrow">
      ${message && html`<p class="notice" role="status">${message}</p>`}
      <form ref=${form} method="post" onSubmit=${submit} novalidate>
        <${Field} label="Email or username" name="username" autocomplete="username" required autocapitalize="none" spellcheck="false" />
        <${Field} label="Password" name="password" type="password" autocomplete="current-password" required />
        <${ErrorMsg} error=${error} />
        <button type="submit" class="primary" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
      ${settings.allowRegistration && html`<p class="alt">New here? <a href="#/signup">Create an account</a></p>`}
    </div>
  <//>`;
}

function SignUp({ onSignedIn }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const form = useRef(null);
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(form.current);
    const body = {
      email: String(f.get('email')).trim(),
      username: String(f.get('username')).trim(),
      full_name: String(f.get('full_name')).trim(),
      password: String(f.get('password')),
    };
    const code = String(f.get('join_code') || '').trim();
    if (code) body.join_code = code;
    if (!body.full_name) delete body.full_name;
    setBusy(true); setError(null);
    try {
      await api('POST', '/api/auth/register', body);
      onSignedIn(await signInWith(body.username, body.password), code ? 'Welcome! You are enrolled in your course.' : 'Welcome! Join your course with the code your professor gave you.');
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  const codeHint = settings.registrationRequiresJoinCode ? 'Required: the code your professor gave you.' : 'Optional: the code your professor gave you.';
  return html`<${Page} title="Create an account">
    <div class="card narrow">
      <form ref=${form} method="post" onSubmit=${submit} novalidate>
        <${Field} label="Email" name="email" type="email" autocomplete="email" required autocapitalize="none" spellcheck="false" />
        <${Field} label="Username" name="username" autocomplete="username" required autocapitalize="none" spellcheck="false" hint="3 to 32 letters, digits, dots, dashes or underscores." />
        <${Field} label="Full name" name="full_name" autocomplete="name" />
        <${Field} label="Password" name="password" type="password" autocomplete="new-password" required hint="At least 10 characters, not your username or email." />
        <${Field} label="Join code" name="join_code" autocomplete="off" autocapitalize="none" spellcheck="false" required=${settings.registrationRequiresJoinCode} hint=${codeHint} />
        <${ErrorMsg} error=${error} />
        <button type="submit" class="primary" disabled=${busy}>${busy ? 'Creating your account…' : 'Create account'}</button>
      </form>
      <p class="alt">Already have an account? <a href="#/signin">Sign in</a></p>
    </div>
  <//>`;
}

render(html`<${App} />`, document.getElementById('app'));
