// The admin's screens: every professor screen (all courses), plus users
// (create staff, change role, deactivate), the audit log and statistics.
import { get, post, patch } from './api.js';
import {
  html, useState, useEffect, useRef, useMemo, useId, useAsync,
  Page, ErrorMsg, Notice, Loading, Empty, Field, Select, fmtDate,
} from './ui.js';
import { PAGE, Pager, paged, useNotice, ConfirmButton, personName } from './staff.js';
import * as professor from './professor.js';

const ROLES = [['student', 'Student'], ['professor', 'Professor'], ['admin', 'Admin']];
const roleName = (r) => (ROLES.find(([v]) => v === r) || [r, r])[1];

// ---------------------------------------------------------------- users

function Users({ user: me }) {
  const [role, setRole] = useState('');
  const [q, setQ] = useState('');
  const [term, setTerm] = useState('');
  const [offset, setOffset] = useState(0);
  const [adding, setAdding] = useState(false);
  const [note, show] = useNotice(8000);

  // The search waits for a pause in typing.
  useEffect(() => {
    const t = setTimeout(() => { setTerm(q.trim()); setOffset(0); }, 300);
    return () => clearTimeout(t);
  }, [q]);

  const users = useAsync((signal) => {
    const s = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
    if (role) s.set('role', role);
    if (term) s.set('q', term);
    return paged(get(`/api/admin/users?${s}`, { signal }), offset);
  }, [role, term, offset]);
  const list = users.data;
  const replace = (u) => users.set({ ...list, items: list.items.map((x) => (x.id === u.id ? u : x)) });

  const toggle = html`<button type="button" class="primary" aria-expanded=${adding ? 'true' : 'false'} onClick=${() => setAdding(!adding)}>New staff account</button>`;
  return html`<${Page} title="Users" actions=${toggle}>
    ${adding && html`<${NewUser} onCancel=${() => setAdding(false)}
      onCreated=${(u) => { setAdding(false); show(`Created the ${roleName(u.role).toLowerCase()} account ${u.username} (${u.email}).`); users.reload(); }} />`}
    <${Notice}>${note}<//>
    <form class="filters card" onSubmit=${(e) => e.preventDefault()} role="search" aria-label="Filter users">
      <${Select} label="Role" options=${[['', 'All roles'], ...ROLES]} value=${role} onChange=${(e) => { setRole(e.currentTarget.value); setOffset(0); }} />
      <${Field} label="Search users" type="search" value=${q} onInput=${(e) => setQ(e.currentTarget.value)} hint="Part of an email, username or name." autocomplete="off" />
    </form>
    <${ErrorMsg} error=${users.error} />
    ${!list && users.loading && html`<${Loading} label="Loading users…" />`}
    ${list && html`<p class="muted" role="status">${list.total} ${list.total === 1 ? 'user' : 'users'}${users.loading ? ' · updating…' : ''}</p>`}
    ${list && list.items.length > 0 && html`<div class="table-wrap">
      <table class="users stack" role="table">
        <caption class="visually-hidden">Users</caption>
        <thead role="rowgroup"><tr role="row"><th scope="col" role="columnheader">Name</th><th scope="col" role="columnheader">Email</th><th scope="col" role="columnheader">Role</th><th scope="col" role="columnheader">Active</th><th scope="col" role="columnheader">Created</th></tr></thead>
        <tbody role="rowgroup">${list.items.map((u) => html`<${UserRow} key=${u.id} u=${u} me=${me} onChanged=${replace} />`)}</tbody>
      </table>
    </div>`}
    ${list && list.items.length === 0 && html`<${Empty}>No users match.<//>`}
    ${list && html`<${Pager} total=${list.total} offset=${list.offset} busy=${users.loading} onChange=${setOffset} label="Pages of users" />`}
  <//>`;
}

function UserRow({ u, me, onChanged }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [note, show] = useNotice();
  const [gen, setGen] = useState(0); // re-renders the role menu to undo a refused change
  const name = personName(u);
  const self = me && me.id === u.id;
  const change = async (body, words) => {
    setBusy(true); setError(null);
    try {
      const n = await patch(`/api/admin/users/${u.id}`, body);
      onChanged(n);
      show(words);
    } catch (err) {
      setError(err);
      setGen((g) => g + 1);
      throw err;
    } finally {
      setBusy(false);
    }
  };
  const onRole = (e) => {
    const r = e.currentTarget.value;
    if (r !== u.role) change({ role: r }, `${name} is now ${roleName(r).toLowerCase() === 'admin' ? 'an admin' : `a ${roleName(r).toLowerCase()}`}.`).catch(() => {});
  };
  return html`<tr role="row" class=${u.is_active ? '' : 'inactive'}>
    <td role="cell" data-label="Name"><strong>${name}</strong>${self ? ' (you)' : ''}<br /><span class="muted">${u.username}</span></td>
    <td role="cell" data-label="Email" class="break">${u.email}</td>
    <td role="cell" data-label="Role">
      <select key=${gen} aria-label=${`Role of ${name}`} value=${u.role} onChange=${onRole} disabled=${busy}>
        ${ROLES.map(([v, t]) => html`<option value=${v} selected=${v === u.role}>${t}</option>`)}
      </select>
    </td>
    <td role="cell" data-label="Active">
      <span class=${`tag ${u.is_active ? 'ok' : 'bad'}`}>${u.is_active ? 'Active' : 'Inactive'}</span>
      ${' '}
      ${u.is_active
        ? html`<${ConfirmButton} label="Deactivate" name=${`Deactivate ${name}`} confirmLabel="Yes, deactivate" disabled=${busy}
            question=${`Deactivate ${name} (${u.email})? They are signed out at once and cannot sign in until reactivated. Nothing is deleted.`}
            onConfirm=${() => change({ is_active: false }, `${name} is deactivated.`)} />`
        : html`<button type="button" disabled=${busy} aria-label=${`Reactivate ${name}`}
            onClick=${() => change({ is_active: true }, `${name} can sign in again.`).catch(() => {})}>Reactivate</button>`}
      <${ErrorMsg} error=${error} />
      <${Notice}>${note}<//>
    </td>
    <td role="cell" data-label="Created">${fmtDate(u.created_at)}</td>
  </tr>`;
}

function NewUser({ onCreated, onCancel }) {
  const form = useRef(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  useEffect(() => { const i = form.current && form.current.querySelector('input'); i && i.focus(); }, []);
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(form.current);
    const body = {
      email: String(f.get('email')).trim(),
      username: String(f.get('username')).trim(),
      password: String(f.get('password')),
      role: String(f.get('role')),
    };
    const full = String(f.get('full_name') || '').trim();
    if (full) body.full_name = full;
    setBusy(true); setError(null);
    try {
      onCreated(await post('/api/admin/users', body));
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return html`<form class="card" ref=${form} onSubmit=${submit} novalidate aria-labelledby="new-user-h">
    <h2 id="new-user-h">New staff account</h2>
    <${Field} label="Email" name="email" type="email" required autocomplete="off" autocapitalize="none" spellcheck="false" />
    <${Field} label="Username" name="username" required autocomplete="off" autocapitalize="none" spellcheck="false" hint="3 to 32 letters, digits, dots, dashes or underscores." />
    <${Field} label="Full name" name="full_name" autocomplete="off" />
    <${Field} label="Password" name="password" type="password" required autocomplete="new-password" hint="At least 10 characters, not the username or email. Give it to them privately." />
    <${Select} label="Account role" name="role" options=${[['professor', 'Professor'], ['admin', 'Admin'], ['student', 'Student']]} />
    <${ErrorMsg} error=${error} />
    <div class="actions">
      <button type="submit" class="primary" disabled=${busy}>${busy ? 'Creating…' : 'Create user'}</button>
      <button type="button" onClick=${onCancel}>Cancel</button>
    </div>
  </form>`;
}

// ---------------------------------------------------------------- audit

const ACTIONS = [
  ['login_success', 'Signed in'], ['login_failure', 'Failed sign-in'], ['logout', 'Signed out'],
  ['register', 'Created an account'], ['password_change', 'Changed password'],
  ['user_create', 'Created a user'], ['role_change', 'Changed a role'], ['activation_change', 'Activated or deactivated a user'],
  ['user_delete', 'Deleted a user'],
  ['course_create', 'Created a course'], ['course_update', 'Edited a course'], ['course_delete', 'Deleted a course'],
  ['instructor_add', 'Added an instructor'], ['enrollment_add', 'Enrolled a student'], ['enrollment_remove', 'Removed a student'],
  ['join_code_regenerate', 'Made a new join code'],
  ['week_create', 'Created a week'], ['week_update', 'Edited a week'], ['week_delete', 'Deleted a week'],
  ['session_start', 'Started a session'], ['session_end', 'Ended a session'],
];
const actionName = (a) => (ACTIONS.find(([v]) => v === a) || [a, a.replace(/_/g, ' ')])[1];

function Audit({ params }) {
  const q = params.query;
  const [action, setAction] = useState(q.get('action') || '');
  const [actor, setActor] = useState(q.get('actor_id') || '');
  const [actorText, setActorText] = useState(q.get('actor_id') || '');
  const [offset, setOffset] = useState(0);
  const people = useAsync((signal) => get('/api/admin/users?limit=200', { signal }).catch(() => null), []);
  const names = useMemo(() => {
    const m = new Map();
    for (const u of (people.data && people.data.items) || []) m.set(u.id, u);
    return m;
  }, [people.data]);
  const entries = useAsync((signal) => {
    const s = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
    if (action) s.set('action', action);
    if (actor) s.set('actor_id', actor);
    return paged(get(`/api/admin/audit?${s}`, { signal }), offset);
  }, [action, actor, offset]);
  const [formError, setFormError] = useState(null);
  const applyActor = (e) => {
    e.preventDefault();
    const v = actorText.trim();
    if (v && !/^\d+$/.test(v)) { setFormError({ detail: 'The actor is a user ID: a whole number (see Users).' }); return; }
    setFormError(null); setActor(v); setOffset(0);
  };
  const byActor = (id) => { setActor(String(id)); setActorText(String(id)); setOffset(0); };
  const who = (id) => {
    if (id == null) return 'System';
    const u = names.get(id);
    return u ? `${personName(u)} (#${id})` : `User #${id}`;
  };
  const list = entries.data;
  const aid = `a${useId()}`;
  const actorOptions = [['', 'Any action'], ...ACTIONS];
  if (action && !ACTIONS.some(([v]) => v === action)) actorOptions.push([action, action]);
  return html`<${Page} title="Audit log">
    <form class="filters card" onSubmit=${applyActor} aria-label="Filter the audit log" novalidate>
      <${Select} label="Action" options=${actorOptions} value=${action} onChange=${(e) => { setAction(e.currentTarget.value); setOffset(0); }} />
      <div class="field">
        <label for=${aid}>Actor (user ID)</label>
        <input id=${aid} inputmode="numeric" value=${actorText} onInput=${(e) => setActorText(e.currentTarget.value)} autocomplete="off" aria-describedby=${`${aid}-hint`} />
        <p class="hint" id=${`${aid}-hint`}>Press Enter to apply; empty for anyone.</p>
      </div>
      <div class="actions">
        <button type="submit">Apply</button>
        <button type="button" disabled=${!action && !actor && !actorText} onClick=${() => { setAction(''); setActor(''); setActorText(''); setOffset(0); setFormError(null); }}>Clear filters</button>
      </div>
      <${ErrorMsg} error=${formError} />
    </form>
    <${ErrorMsg} error=${entries.error} />
    ${!list && entries.loading && html`<${Loading} label="Loading the audit log…" />`}
    ${list && html`<p class="muted" role="status">${list.total} ${list.total === 1 ? 'entry' : 'entries'}${entries.loading ? ' · updating…' : ''}</p>`}
    ${list && list.items.length === 0 && html`<${Empty}>Nothing recorded matches.<//>`}
    ${list && list.items.length > 0 && html`<div class="table-wrap">
      <table class="audit stack" role="table">
        <caption class="visually-hidden">Audit log, newest first</caption>
        <thead role="rowgroup"><tr role="row"><th scope="col" role="columnheader">When</th><th scope="col" role="columnheader">Who</th><th scope="col" role="columnheader">Action</th><th scope="col" role="columnheader">Target</th><th scope="col" role="columnheader">Details</th></tr></thead>
        <tbody role="rowgroup">${list.items.map((e) => html`<tr role="row">
          <td role="cell" data-label="When">${fmtDate(e.at)}</td>
          <td role="cell" data-label="Who">${e.actor_id == null ? 'System'
            : html`<button type="button" class="link" onClick=${() => byActor(e.actor_id)} aria-label=${`Only actions by ${who(e.actor_id)}`}>${who(e.actor_id)}</button>`}
            ${e.ip && html`<br /><span class="muted">${e.ip}</span>`}</td>
          <td role="cell" data-label="Action">${actionName(e.action)} <span class="muted code">${e.action}</span></td>
          <td role="cell" data-label="Target">${target(e, names)}</td>
          <td role="cell" data-label="Details" class="break">${details(e.detail)}</td>
        </tr>`)}</tbody>
      </table>
    </div>`}
    ${list && html`<${Pager} total=${list.total} offset=${list.offset} busy=${entries.loading} onChange=${setOffset} label="Pages of the audit log" />`}
  <//>`;
}

function target(e, names) {
  if (!e.target_type) return '';
  if (e.target_type === 'user' && e.target_id != null && names.has(e.target_id)) return `user ${personName(names.get(e.target_id))} (#${e.target_id})`;
  return `${e.target_type.replace(/_/g, ' ')}${e.target_id != null ? ` #${e.target_id}` : ''}`;
}

function details(d) {
  if (!d) return '';
  const parts = Object.entries(d).map(([k, v]) => `${k.replace(/_/g, ' ')}: ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`);
  return parts.length ? html`<ul class="kv">${parts.map((p) => html`<li>${p}</li>`)}</ul>` : '';
}

// ---------------------------------------------------------------- statistics

const fmtInt = new Intl.NumberFormat();
const n = (v) => (typeof v === 'number' ? fmtInt.format(v) : '—');

function StatGroup({ title, rows }) {
  const hid = `g${useId()}`;
  return html`<section class="card stat-group" aria-labelledby=${hid}>
    <h2 id=${hid}>${title}</h2>
    <dl class="stats">
      ${rows.map(([label, v]) => html`<div class="stat"><dt>${label}</dt><dd>${n(v)}</dd></div>`)}
    </dl>
  </section>`;
}

function Stats() {
  const stats = useAsync((signal) => get('/api/admin/stats', { signal }), []);
  const s = stats.data;
  const refresh = html`<button type="button" onClick=${stats.reload} disabled=${stats.loading}>${stats.loading && s ? 'Refreshing…' : 'Refresh'}</button>`;
  return html`<${Page} title="Statistics" actions=${refresh}>
    <${ErrorMsg} error=${stats.error} />
    ${!s && stats.loading && html`<${Loading} />`}
    ${s && html`<div class="stat-grid">
      <${StatGroup} title="Users" rows=${[['Students', s.users.student], ['Professors', s.users.professor], ['Admins', s.users.admin]]} />
      <${StatGroup} title="Courses" rows=${[['Courses', s.courses]]} />
      <${StatGroup} title="Documents" rows=${[['Queued', s.documents.queued], ['Processing', s.documents.processing], ['Processed', s.documents.processed], ['Failed', s.documents.failed]]} />
      <${StatGroup} title="Sessions" rows=${[['This week', s.sessions.this_week], ['Total', s.sessions.total], ['Moderated', s.sessions.moderated]]} />
      ${s.model && html`<${StatGroup} title="Language model" rows=${[
        ['Tokens today', s.model.tokens_today], ['Tokens in all', s.model.tokens_total],
        ['Calls running now', s.model.calls_in_flight], ['Most at once', s.model.max_concurrent],
        ['Refused: too fast', s.model.turns_refused_rate], ['Refused: too many turns', s.model.turns_refused_max_turns],
        ['Refused: daily budget', s.model.turns_refused_budget], ['Refused: model busy', s.model.refused_busy],
      ]} />`}
    </div>
    ${s.model && !s.model.max_concurrent && html`<p class="muted">No language model is configured: the tutor runs offline.</p>`}`}
  <//>`;
}

export const nav = [
  ...professor.nav,
  { href: '#/users', label: 'Users' },
  { href: '#/audit', label: 'Audit log' },
  { href: '#/stats', label: 'Statistics' },
];

export const routes = {
  ...professor.routes,
  '/users': Users,
  '/audit': Audit,
  '/stats': Stats,
};
