// The student's screens: my courses (and joining one by code), a course's
// weeks, a week (its readings and Start session), the session itself
// (session.js), and past sessions with their transcripts and recordings.
import { get, post } from './api.js';
import {
  html, useState, useRef, useId, useAsync, navigate, settings,
  ErrorMsg, Loading, Empty, Notice, Field, Page, fmtDate, fmtDuration, fmtBytes,
} from './ui.js';
import { SessionScreen, startSession, recordConsent, setRecordConsent } from './session.js';

function byName(a, b) {
  return a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }) || a.code.localeCompare(b.code);
}

function weekLabel(w) {
  return `Week ${w.week_number}${w.title ? `: ${w.title}` : ''}`;
}

// Home is "My courses": the courses the student is enrolled in, and the
// join-by-code form.
function Home() {
  const courses = useAsync((signal) => get('/api/courses?limit=200', { signal }), []);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [joined, setJoined] = useState('');
  const form = useRef(null);
  const join = async (e) => {
    e.preventDefault();
    const code = String(new FormData(form.current).get('join_code') || '').trim();
    setJoined('');
    if (!code) { setError('Type the join code your professor gave you.'); return; }
    setBusy(true); setError(null);
    try {
      const c = await post('/api/courses/join', { join_code: code });
      form.current.reset();
      setJoined(`You joined ${c.name}.`);
      courses.reload();
    } catch (err) {
      setError(err.status === 404 ? { detail: `${err.detail.replace(/\.?$/, '.')} Check the code with your professor and try again.` } : err);
    } finally {
      setBusy(false);
    }
  };
  const list = courses.data ? [...courses.data.items].sort(byName) : [];
  return html`<${Page} title="My courses">
    ${courses.error && html`<${ErrorMsg} error=${courses.error} />`}
    ${!courses.data && courses.loading && html`<${Loading} label="Loading your courses…" />`}
    ${courses.data && (list.length === 0
      ? html`<${Empty}>You are not in any course yet. Join one with the code your professor gave you.<//>`
      : html`<ul class="list course-list">${list.map((c) => html`<li>
          <a class="course-link" href=${`#/courses/${c.id}`}>${c.name}</a>
          <span class="muted"> ${c.code}${c.professor_name ? ` · ${c.professor_name}` : ''}</span>
        </li>`)}</ul>`)}
    <section class="card join" aria-labelledby="join-h">
      <h2 id="join-h">Join a course</h2>
      <form ref=${form} class="inline-form" onSubmit=${join} novalidate>
        <${Field} label="Join code" name="join_code" autocomplete="off" autocapitalize="characters" spellcheck="false" required />
        <button type="submit" class="primary" disabled=${busy}>${busy ? 'Joining…' : 'Join'}</button>
      </form>
      <${ErrorMsg} error=${error} />
      <${Notice}>${joined}<//>
    </section>
  <//>`;
}

// Course shows a course's weeks, each a link, with its themes.
function Course({ params }) {
  const c = useAsync((signal) => get(`/api/courses/${encodeURIComponent(params.id)}`, { signal }), [params.id]);
  if (c.error) return html`<${Page} title="Course"><${ErrorMsg} error=${c.error} /><p><a href="#/">Back to my courses</a></p><//>`;
  if (!c.data) return html`<${Page} title="Course"><${Loading} /><//>`;
  const course = c.data;
  const weeks = [...(course.weeks || [])].sort((a, b) => a.week_number - b.week_number);
  return html`<${Page} title=${course.name}>
    <p class="muted">${course.code}${course.professor_name ? ` · ${course.professor_name}` : ''}</p>
    ${course.description && html`<p>${course.description}</p>`}
    <h2>Weeks</h2>
    ${weeks.length === 0
      ? html`<${Empty}>Your professor has not added any weeks yet.<//>`
      : html`<ul class="list week-list">${weeks.map((w) => html`<li>
          <a href=${`#/weeks/${w.id}`}>${weekLabel(w)}</a>
          ${w.processed_document_count === 0 && html` <span class="tag">No reading yet</span>`}
          ${w.themes && w.themes.length > 0 && html`<ul class="themes" aria-label=${`Themes of week ${w.week_number}`}>${w.themes.map((t) => html`<li class="tag">${t}</li>`)}</ul>`}
        </li>`)}</ul>`}
    <p><a href="#/">Back to my courses</a></p>
  <//>`;
}

const docStatus = { queued: 'waiting to be read', processing: 'being read', processed: 'ready', failed: 'could not be read' };

// Week shows the week's themes and readings, the sessions left this week
// and Start session (with the recording consent).
function Week({ params }) {
  const w = useAsync(async (signal) => {
    const [week, quota, sessions] = await Promise.all([
      get(`/api/weeks/${encodeURIComponent(params.id)}`, { signal }),
      get('/api/sessions/quota', { signal }),
      get(`/api/sessions?week_id=${encodeURIComponent(params.id)}&limit=20`, { signal }).catch(() => ({ items: [] })),
    ]);
    let course = null;
    try { course = await get(`/api/courses/${week.course_id}`, { signal }); } catch { /* the week is enough */ }
    return { week, quota, sessions: sessions.items || [], course };
  }, [params.id]);
  const [consent, setConsent] = useState(() => recordConsent() === 'yes');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const reasonId = useId();

  if (w.error) return html`<${Page} title="Week"><${ErrorMsg} error=${w.error} /><p><a href="#/">Back to my courses</a></p><//>`;
  if (!w.data) return html`<${Page} title="Week"><${Loading} /><//>`;
  const { week, quota, sessions, course } = w.data;
  const docs = week.documents || [];
  const live = sessions.find((s) => s.status === 'active' && Date.parse(s.expires_at) > Date.now());

  let reason = '';
  if (week.processed_document_count === 0) {
    reason = docs.length === 0
      ? 'You cannot start a session yet: this week has no reading. Your professor has not uploaded one.'
      : 'You cannot start a session yet: this week’s reading is still being prepared. Try again in a few minutes.';
  } else if (quota.applies !== false && quota.remaining <= 0) {
    reason = `You have used ${quota.limit === 1 ? 'your one session' : `all ${quota.limit} sessions`} for this week. New sessions open ${fmtDate(quota.resets_at)}.`;
  }

  const start = async () => {
    setBusy(true); setError(null);
    setRecordConsent(consent ? 'yes' : 'no');
    try {
      const res = await startSession(week.id, consent);
      navigate(`#/sessions/${res.session_id}`);
    } catch (e) {
      let detail = e.detail || e.message;
      if (e.status === 429 && e.retryAfter && /week/i.test(detail)) detail = `${detail.replace(/\.?$/, '.')} New sessions open ${fmtDate(new Date(Date.now() + e.retryAfter * 1000))}.`;
      else if ((e.status === 429 || e.status === 503) && e.retryAfter) detail = `${detail.replace(/\.?$/, '.')} Please try again in ${e.retryAfter} second${e.retryAfter === 1 ? '' : 's'}.`;
      setError({ detail, fields: e.fields });
      setBusy(false);
      if (e.status === 429 || e.status === 409) w.reload();
    }
  };

  const left = quota.applies === false ? null : quota.remaining;
  return html`<${Page} title=${weekLabel(week)}>
    ${course && html`<p class="muted"><a href=${`#/courses/${course.id}`}>${course.name}</a></p>`}
    ${week.themes && week.themes.length > 0 && html`<section aria-labelledby="themes-h">
      <h2 id="themes-h">Themes</h2>
      <ul class="themes">${week.themes.map((t) => html`<li class="tag">${t}</li>`)}</ul>
    </section>`}
    <section aria-labelledby="readings-h">
      <h2 id="readings-h">Readings</h2>
      ${docs.length === 0
      ? html`<${Empty}>No reading has been uploaded for this week yet.<//>`
      : html`<ul class="list">${docs.map((d) => html`<li>
          <span class="doc-name">${d.original_filename}</span>
          <span class="muted"> · ${d.page_count ? `${d.page_count} pages · ` : ''}${fmtBytes(d.file_size)}</span>
          ${d.status !== 'processed' && html` <span class=${`tag ${d.status === 'failed' ? 'bad' : 'warn'}`}>${docStatus[d.status] || d.status}</span>`}
        </li>`)}</ul>`}
    </section>
    <section class="card start" aria-labelledby="start-h">
      <h2 id="start-h">Talk it through with the tutor</h2>
      <p>${left != null ? `${left === 1 ? '1 session left this week' : `${left} sessions left this week`} (of ${quota.limit}). ` : ''}A session lasts up to ${fmtDuration(settings.sessionMaxDuration).replace(/ 00 s$/, '')}.</p>
      ${live && html`<p class="notice">You have a session in progress. <a href=${`#/sessions/${live.id}`}>Return to it</a>. Starting a new one ends it.</p>`}
      ${!reason && html`<div class="consent">
        <p>The tutor can listen and speak. You can also record your voice for your professor: the recording is sent with the transcript when the session ends.</p>
        <label class="check"><input type="checkbox" checked=${consent} onChange=${(e) => setConsent(e.currentTarget.checked)} /> Record my voice during this session</label>
        <p class="hint">Leave it unticked to have the session without a recording.</p>
      </div>`}
      <button type="button" class="primary big" onClick=${start} disabled=${busy || !!reason} aria-describedby=${reason ? reasonId : undefined}>
        ${busy ? 'Starting…' : 'Start session'}${left != null && !reason ? ` (${left} left this week)` : ''}
      </button>
      ${reason && html`<p class="reason" id=${reasonId}>${reason}</p>`}
      <${ErrorMsg} error=${error} />
    </section>
  <//>`;
}

// PastSessions lists the student's sessions; each opens its transcript.
function PastSessions() {
  const s = useAsync((signal) => get('/api/sessions?limit=200', { signal }), []);
  const items = s.data ? [...s.data.items].sort((a, b) => Date.parse(b.started_at) - Date.parse(a.started_at)) : [];
  return html`<${Page} title="Past sessions">
    ${s.error && html`<${ErrorMsg} error=${s.error} />`}
    ${!s.data && s.loading && html`<${Loading} label="Loading your sessions…" />`}
    ${s.data && (items.length === 0
      ? html`<${Empty}>No sessions yet. Open a week of one of <a href="#/">your courses</a> to start one.<//>`
      : html`<ul class="list session-list">${items.map((x) => html`<li>
          <a href=${`#/sessions/${x.id}`}>${weekLabel({ week_number: x.week_number, title: x.week_title })} — ${fmtDate(x.started_at)}</a>
          <p class="muted small">${[x.course_name, x.status === 'active' ? 'in progress' : fmtDuration(x.duration_seconds), x.has_audio ? 'recorded' : ''].filter(Boolean).join(' · ')}
            ${x.moderated_count ? html` <span class="tag warn">Moderated</span>` : ''}</p>
        </li>`)}</ul>`)}
  <//>`;
}

export const nav = [
  { href: '#/', label: 'My courses' },
  { href: '#/sessions', label: 'Past sessions' },
];

export const routes = {
  '/': Home,
  '/courses/:id': Course,
  '/weeks/:id': Week,
  '/sessions': PastSessions,
  '/sessions/:id': SessionScreen,
};
