// The professor's screens: courses (create, edit, delete), a course's
// weeks, join code and students, a week's readings (upload, live status,
// reprocess, delete), themes and search, and the sessions students held,
// with transcripts, recordings and the CSV export. Admins get these too
// (admin.js adds its own pages).
import { get, post, patch, del, upload, blob } from './api.js';
import {
  html, useState, useEffect, useRef, useMemo, useId, useAsync, navigate,
  Page, ErrorMsg, Notice, Loading, Empty, Field, TextArea, Select, fmtDate, fmtDuration, fmtBytes,
} from './ui.js';
import {
  PAGE, Pager, paged, usePoll, useNotice, ConfirmButton, DownloadLink, docStatus, statusClass, Transcript, personName,
} from './staff.js';

// ---------------------------------------------------------------- courses

function Courses() {
  const [offset, setOffset] = useState(0);
  const [adding, setAdding] = useState(false);
  const courses = useAsync((signal) => paged(get(`/api/courses?limit=${PAGE}&offset=${offset}`, { signal }), offset), [offset]);
  const toggle = html`<button type="button" class="primary" aria-expanded=${adding ? 'true' : 'false'} aria-controls="new-course" onClick=${() => setAdding(!adding)}>New course</button>`;
  return html`<${Page} title="Courses" actions=${toggle}>
    ${adding && html`<${NewCourse} onCancel=${() => setAdding(false)} />`}
    <${ErrorMsg} error=${courses.error} />
    ${!courses.data && courses.loading && html`<${Loading} />`}
    ${courses.data && (courses.data.items.length === 0
      ? html`<${Empty}>No courses yet. Make your first with New course.<//>`
      : html`<ul class="list course-list">
          ${courses.data.items.map((c) => html`<li>
            <a class="course-link" href=${`#/courses/${c.id}`}><span class="code">${c.code}</span> ${c.name}</a>
            ${(c.professor_name || c.description) && html`<p class="muted clamp">${[c.professor_name, c.description].filter(Boolean).join(' · ')}</p>`}
          </li>`)}
        </ul>`)}
    ${courses.data && html`<${Pager} total=${courses.data.total} offset=${courses.data.offset} busy=${courses.loading} onChange=${setOffset} label="Pages of courses" />`}
  <//>`;
}

function NewCourse({ onCancel }) {
  const form = useRef(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  useEffect(() => { const i = form.current && form.current.querySelector('input'); i && i.focus(); }, []);
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(form.current);
    const body = { code: String(f.get('code')).trim(), name: String(f.get('name')).trim() };
    const description = String(f.get('description') || '').trim();
    const professor = String(f.get('professor_name') || '').trim();
    if (description) body.description = description;
    if (professor) body.professor_name = professor;
    setBusy(true); setError(null);
    try {
      const c = await post('/api/courses', body);
      navigate(`#/courses/${c.id}`);
    } catch (err) {
      setError(err.status === 409 ? { detail: `${cap(err.detail)}. Choose another course code.` } : err);
      setBusy(false);
    }
  };
  return html`<form id="new-course" class="card" ref=${form} onSubmit=${submit} novalidate aria-labelledby="new-course-h">
    <h2 id="new-course-h">New course</h2>
    <${Field} label="Course code" name="code" required maxlength="32" autocomplete="off" hint="Unique, e.g. LAW 101." />
    <${Field} label="Course name" name="name" required maxlength="200" autocomplete="off" />
    <${TextArea} label="Description (optional)" name="description" maxlength="5000" />
    <${Field} label="Professor name (optional)" name="professor_name" maxlength="200" autocomplete="name" />
    <${ErrorMsg} error=${error} />
    <div class="actions">
      <button type="submit" class="primary" disabled=${busy}>${busy ? 'Creating…' : 'Create course'}</button>
      <button type="button" onClick=${onCancel}>Cancel</button>
    </div>
  </form>`;
}

function cap(s) { return s ? s.charAt(0).toUpperCase() + s.slice(1).replace(/\.$/, '') : ''; }

// ---------------------------------------------------------------- course

function CoursePage({ params }) {
  const id = params.id;
  const course = useAsync((signal) => get(`/api/courses/${id}`, { signal }), [id]);
  const [editing, setEditing] = useState(false);
  const c = course.data;
  if (!c) {
    return html`<${Page} title="Course"><p><a href="#/">All courses</a></p><${ErrorMsg} error=${course.error} />${course.loading && html`<${Loading} />`}<//>`;
  }
  const remove = async () => { await del(`/api/courses/${id}`); navigate('#/'); };
  const actions = html`
    <button type="button" aria-expanded=${editing ? 'true' : 'false'} onClick=${() => setEditing(!editing)}>Edit course</button>
    <${ConfirmButton} label="Delete course" question=${`Delete ${c.code} ${c.name}? Its weeks, readings and their passages go with it. Students' sessions and transcripts are kept.`}
      confirmLabel="Yes, delete the course" onConfirm=${remove} />`;
  return html`<${Page} title=${`${c.code}: ${c.name}`} actions=${actions}>
    <p class="crumbs"><a href="#/">All courses</a></p>
    ${editing
      ? html`<${EditCourse} course=${c} onSaved=${(n) => { course.set({ ...c, ...n }); setEditing(false); }} onCancel=${() => setEditing(false)} />`
      : (c.description || c.professor_name) && html`<div class="card">
          ${c.professor_name && html`<p><strong>Professor:</strong> ${c.professor_name}</p>`}
          ${c.description && html`<p class="prewrap">${c.description}</p>`}
        </div>`}
    <${Weeks} course=${c} onAdded=${course.reload} />
    <${JoinCode} course=${c} onChange=${(n) => course.set({ ...c, ...n })} />
    <${Students} courseId=${id} />
    <section class="card" aria-labelledby="c-sessions">
      <h2 id="c-sessions">Sessions</h2>
      <p><a href=${`#/sessions?course_id=${id}`}>Sessions in this course</a></p>
      <p><${DownloadLink} path=${`/api/courses/${id}/sessions.csv`} filename=${csvName(c)}>Download CSV<//> <span class="muted">of every session in ${c.code}</span></p>
    </section>
  <//>`;
}

function csvName(c) {
  return `${String(c.code || 'course').replace(/[^A-Za-z0-9_-]+/g, '-')}-sessions.csv`;
}

function EditCourse({ course, onSaved, onCancel }) {
  const form = useRef(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(form.current);
    const body = {
      code: String(f.get('code')).trim(),
      name: String(f.get('name')).trim(),
      description: String(f.get('description') || '').trim(),
      professor_name: String(f.get('professor_name') || '').trim(),
    };
    setBusy(true); setError(null);
    try {
      onSaved(await patch(`/api/courses/${course.id}`, body));
    } catch (err) {
      setError(err.status === 409 ? { detail: `${cap(err.detail)}. Choose another course code.` } : err);
      setBusy(false);
    }
  };
  return html`<form class="card" ref=${form} onSubmit=${submit} novalidate aria-labelledby="edit-course-h">
    <h2 id="edit-course-h">Edit course</h2>
    <${Field} label="Course code" name="code" required maxlength="32" value=${course.code} autocomplete="off" />
    <${Field} label="Course name" name="name" required maxlength="200" value=${course.name} autocomplete="off" />
    <${TextArea} label="Description" name="description" maxlength="5000" value=${course.description} />
    <${Field} label="Professor name" name="professor_name" maxlength="200" value=${course.professor_name} />
    <${ErrorMsg} error=${error} />
    <div class="actions">
      <button type="submit" class="primary" disabled=${busy}>${busy ? 'Saving…' : 'Save changes'}</button>
      <button type="button" onClick=${onCancel}>Cancel</button>
    </div>
  </form>`;
}

function Weeks({ course, onAdded }) {
  const [adding, setAdding] = useState(false);
  const weeks = [...(course.weeks || [])].sort((a, b) => a.week_number - b.week_number);
  const next = weeks.reduce((m, w) => Math.max(m, w.week_number), 0) + 1;
  return html`<section class="card" aria-labelledby="c-weeks">
    <div class="section-head">
      <h2 id="c-weeks">Weeks</h2>
      <button type="button" aria-expanded=${adding ? 'true' : 'false'} onClick=${() => setAdding(!adding)}>Add week</button>
    </div>
    ${adding && html`<${AddWeek} courseId=${course.id} next=${Math.min(next, 52)} onAdded=${() => { setAdding(false); onAdded(); }} onCancel=${() => setAdding(false)} />`}
    ${weeks.length === 0
      ? html`<${Empty}>No weeks yet. Add one, then upload its readings.<//>`
      : html`<ul class="list">
          ${weeks.map((w) => html`<li class="week-row">
            <a href=${`#/weeks/${w.id}`}>Week ${w.week_number}${w.title ? `: ${w.title}` : ''}</a>
            <span class="muted"> ${readingCount(w)}</span>
          </li>`)}
        </ul>`}
  </section>`;
}

function readingCount(w) {
  if (!w.document_count) return 'no readings yet';
  if (w.processed_document_count === w.document_count) return `${w.document_count} ${w.document_count === 1 ? 'reading' : 'readings'}`;
  return `${w.processed_document_count} of ${w.document_count} readings processed`;
}

function AddWeek({ courseId, next, onAdded, onCancel }) {
  const form = useRef(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  useEffect(() => { const i = form.current && form.current.querySelector('input'); i && i.focus(); }, []);
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(form.current);
    const n = Number(f.get('week_number'));
    if (!Number.isInteger(n) || n < 1 || n > 52) { setError({ detail: 'The week number must be a whole number from 1 to 52.' }); return; }
    const body = { week_number: n };
    const title = String(f.get('title') || '').trim();
    if (title) body.title = title;
    setBusy(true); setError(null);
    try {
      await post(`/api/courses/${courseId}/weeks`, body);
      onAdded();
    } catch (err) {
      setError(err.status === 409 ? { detail: `${cap(err.detail)}. Choose another week number.` } : err);
      setBusy(false);
    }
  };
  return html`<form class="inline-form add-week" ref=${form} onSubmit=${submit} novalidate aria-label="New week">
    <${Field} label="Week number" name="week_number" type="number" min="1" max="52" step="1" inputmode="numeric" required value=${String(next)} />
    <${Field} label="Title" name="title" maxlength="200" autocomplete="off" />
    <div class="actions">
      <button type="submit" class="primary" disabled=${busy}>${busy ? 'Saving…' : 'Save week'}</button>
      <button type="button" onClick=${onCancel}>Cancel</button>
    </div>
    <${ErrorMsg} error=${error} />
  </form>`;
}

function JoinCode({ course, onChange }) {
  const [note, show] = useNotice();
  const [error, setError] = useState(null);
  const copy = async () => {
    setError(null);
    try {
      await navigator.clipboard.writeText(course.join_code);
      show('Copied');
    } catch {
      setError({ detail: 'The browser did not allow copying. Select the code and copy it by hand.' });
    }
  };
  const regenerate = async () => {
    const c = await post(`/api/courses/${course.id}/join-code`);
    onChange({ join_code: c.join_code });
    show('A new join code is ready. The old one no longer works.');
  };
  return html`<section class="card" aria-labelledby="c-join">
    <h2 id="c-join">Join code</h2>
    <p>Students join ${course.code} with this code:</p>
    <p class="join-code"><code>${course.join_code || '—'}</code></p>
    <div class="actions">
      <button type="button" onClick=${copy} disabled=${!course.join_code}>Copy join code</button>
      <${ConfirmButton} label="New join code" cls="" confirmLabel="Make a new code" onConfirm=${regenerate}
        question="Make a new join code? The current code stops working at once; students already enrolled stay enrolled." />
    </div>
    <${Notice}>${note}<//>
    <${ErrorMsg} error=${error} />
  </section>`;
}

function Students({ courseId }) {
  const [offset, setOffset] = useState(0);
  const students = useAsync((signal) => paged(get(`/api/courses/${courseId}/students?limit=${PAGE}&offset=${offset}`, { signal }), offset), [courseId, offset]);
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [result, setResult] = useState(null);
  const [note, show] = useNotice();
  const fid = `s${useId()}`;
  const submit = async (e) => {
    e.preventDefault();
    const emails = text.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean);
    if (emails.length === 0) { setError({ detail: 'Enter at least one email address.' }); return; }
    setBusy(true); setError(null); setResult(null);
    try {
      const r = await post(`/api/courses/${courseId}/students`, { emails });
      setResult(r);
      const left = [...(r.not_found || []), ...(r.not_students || [])];
      setText(left.join('\n'));
      students.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const remove = (u) => async () => {
    await del(`/api/courses/${courseId}/students/${u.id}`);
    show(`${personName(u)} was removed from the course.`);
    students.reload();
  };
  const list = students.data;
  return html`<section class="card" aria-labelledby="c-students">
    <h2 id="c-students">Students${list ? ` (${list.total})` : ''}</h2>
    <form onSubmit=${submit} novalidate>
      <div class="field">
        <label for=${fid}>Add students by email</label>
        <textarea id=${fid} rows="3" value=${text} onInput=${(e) => setText(e.currentTarget.value)} aria-describedby=${`${fid}-hint`}
          autocapitalize="none" spellcheck="false"></textarea>
        <p class="hint" id=${`${fid}-hint`}>One or more addresses, separated by commas, spaces or new lines. Students need an account first.</p>
      </div>
      <button type="submit" class="primary" disabled=${busy}>${busy ? 'Adding…' : 'Add students'}</button>
    </form>
    <${ErrorMsg} error=${error} />
    ${result && html`<div class="enroll-result" role="status">
      ${result.enrolled.length > 0 && html`<p class="notice">Enrolled ${result.enrolled.length} ${result.enrolled.length === 1 ? 'student' : 'students'}: ${result.enrolled.join(', ')}.</p>`}
      ${result.enrolled.length === 0 && html`<p>No one was enrolled.</p>`}
      ${result.not_found.length > 0 && html`<p class="error">No account has ${result.not_found.length === 1 ? 'this address' : 'these addresses'}: ${result.not_found.join(', ')}. Ask them to create an account, then add them again.</p>`}
      ${result.not_students.length > 0 && html`<p class="error">Not enrolled, because ${result.not_students.length === 1 ? 'this account is' : 'these accounts are'} not a student's: ${result.not_students.join(', ')}.</p>`}
    </div>`}
    <${Notice}>${note}<//>
    <${ErrorMsg} error=${students.error} />
    ${!list && students.loading && html`<${Loading} label="Loading students…" />`}
    ${list && (list.items.length === 0
      ? html`<${Empty}>No students yet. Share the join code, or add them by email.<//>`
      : html`<ul class="list people">
          ${list.items.map((u) => html`<li class="person">
            <div><strong>${personName(u)}</strong> <span class="muted">${u.email}</span></div>
            <div class="row-actions">
              <a href=${`#/sessions?course_id=${courseId}&user_id=${u.id}`} aria-label=${`Sessions of ${personName(u)}`}>Sessions</a>
              <${ConfirmButton} label="Remove" name=${`Remove ${personName(u)}`} confirmLabel="Yes, remove"
                question=${`Remove ${personName(u)} (${u.email}) from the course? Their past sessions are kept.`} onConfirm=${remove(u)} />
            </div>
          </li>`)}
        </ul>`)}
    ${list && html`<${Pager} total=${list.total} offset=${list.offset} busy=${students.loading} onChange=${setOffset} label="Pages of students" />`}
  </section>`;
}

// ---------------------------------------------------------------- week

function WeekPage({ params }) {
  const id = params.id;
  const week = useAsync((signal) => get(`/api/weeks/${id}`, { signal }), [id]);
  const w = week.data;
  const course = useAsync((signal) => (w ? get(`/api/courses/${w.course_id}`, { signal }) : Promise.resolve(null)), [w && w.course_id]);
  if (!w) {
    return html`<${Page} title="Week"><${ErrorMsg} error=${week.error} />${week.loading && html`<${Loading} />`}<//>`;
  }
  const c = course.data;
  const remove = async () => { await del(`/api/weeks/${id}`); navigate(`#/courses/${w.course_id}`); };
  const actions = html`<${ConfirmButton} label="Delete week" confirmLabel="Yes, delete the week" onConfirm=${remove}
    question=${`Delete week ${w.week_number}? Its readings and their passages go with it. Students' sessions and transcripts are kept.`} />`;
  return html`<${Page} title=${`Week ${w.week_number}${w.title ? `: ${w.title}` : ''}`} actions=${actions}>
    <p class="crumbs"><a href=${`#/courses/${w.course_id}`}>${c ? `${c.code}: ${c.name}` : 'Back to the course'}</a></p>
    <${WeekDetails} week=${w} onSaved=${(n) => week.set({ ...w, ...n })} />
    <${Readings} week=${w} onSettled=${() => get(`/api/weeks/${id}`).then((n) => week.set(n)).catch(() => {})} />
    <${WeekSearch} week=${w} />
  <//>`;
}

function WeekDetails({ week, onSaved }) {
  const [title, setTitle] = useState(week.title || '');
  const [themes, setThemes] = useState((week.themes || []).join('\n'));
  const [dirty, setDirty] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [gen, setGen] = useState(null); // {since, before, started}
  const [note, show] = useNotice(8000);

  // A week that changes underneath (themes generated) shows its new
  // values unless the professor is editing them.
  useEffect(() => {
    if (dirty) return;
    setTitle(week.title || '');
    setThemes((week.themes || []).join('\n'));
  }, [week.updated_at, week.title, (week.themes || []).join('\n')]);

  const save = async (e) => {
    e.preventDefault();
    const list = themes.split('\n').map((s) => s.trim()).filter(Boolean);
    setBusy(true); setError(null);
    try {
      const n = await patch(`/api/weeks/${week.id}`, { title: title.trim(), themes: list });
      setDirty(false);
      onSaved(n);
      show('Saved.');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const generate = async () => {
    setError(null);
    try {
      await post(`/api/weeks/${week.id}/themes/generate`);
      setDirty(false);
      setGen({ before: week.updated_at, started: Date.now() });
    } catch (err) {
      setError(err);
    }
  };
  usePoll(async () => {
    if (!gen) return;
    try {
      const n = await get(`/api/weeks/${week.id}`);
      if (n.updated_at !== gen.before) {
        setTitle(n.title || '');
        setThemes((n.themes || []).join('\n'));
        onSaved(n);
        setGen(null);
        show(n.themes && n.themes.length ? 'New themes are ready.' : 'The readings gave no themes.');
      } else if (Date.now() - gen.started > 120000) {
        setGen(null);
        show('The themes are taking longer than usual. They will appear here when ready; reload the page to check.');
      }
    } catch (err) {
      setGen(null);
      setError(err);
    }
  }, 1500, !!gen);

  const noReadings = !week.processed_document_count;
  const tid = `t${useId()}`;
  return html`<section class="card" aria-labelledby="w-details">
    <h2 id="w-details">Title and themes</h2>
    <form onSubmit=${save} novalidate>
      <${Field} label="Title" name="title" maxlength="200" value=${title} onInput=${(e) => { setTitle(e.currentTarget.value); setDirty(true); }} />
      <div class="field">
        <label for=${tid}>Themes</label>
        <textarea id=${tid} rows="6" value=${themes} disabled=${!!gen} aria-describedby=${`${tid}-hint`}
          onInput=${(e) => { setThemes(e.currentTarget.value); setDirty(true); }}></textarea>
        <p class="hint" id=${`${tid}-hint`}>One theme per line, at most 20. The tutor opens sessions with them.</p>
      </div>
      <div class="actions">
        <button type="submit" class="primary" disabled=${busy || !!gen}>${busy ? 'Saving…' : 'Save week'}</button>
        <button type="button" onClick=${generate} disabled=${!!gen || noReadings} aria-describedby=${noReadings ? `${tid}-why` : undefined}>Regenerate themes</button>
      </div>
      ${noReadings && html`<p class="hint" id=${`${tid}-why`}>Themes are drawn from the week's processed readings: upload a PDF first.</p>`}
    </form>
    ${gen && html`<${Loading} label="Generating themes from the readings…" />`}
    <${Notice}>${note}<//>
    <${ErrorMsg} error=${error} />
  </section>`;
}

let uploadSeq = 0;

function Readings({ week, onSettled }) {
  const docs = useAsync((signal) => get(`/api/documents?week_id=${week.id}`, { signal }), [week.id]);
  const [uploads, setUploads] = useState([]);
  const [over, setOver] = useState(false);
  const [note, show] = useNotice();
  const queue = useRef(Promise.resolve());
  const fileId = `u${useId()}`;
  const items = docs.data ? docs.data.items : [];
  const busy = items.some((d) => d.status === 'queued' || d.status === 'processing');
  const wasBusy = useRef(false);

  const refresh = () => get(`/api/documents?week_id=${week.id}`).then((d) => docs.set(d)).catch(() => {});
  usePoll(refresh, 1500, busy);
  useEffect(() => {
    if (wasBusy.current && !busy) onSettled(); // counts and themes may have changed
    wasBusy.current = busy;
  }, [busy]);

  const patchUpload = (key, p) => setUploads((us) => us.map((u) => (u.key === key ? { ...u, ...p } : u)));
  const add = (files) => {
    const list = Array.from(files || []);
    if (list.length === 0) return;
    const entries = list.map((f) => ({ key: ++uploadSeq, file: f, name: f.name, size: f.size, progress: 0, state: 'waiting' }));
    setUploads((us) => [...us, ...entries]);
    for (const en of entries) {
      queue.current = queue.current.then(async () => {
        patchUpload(en.key, { state: 'uploading' });
        try {
          const r = await upload(`/api/documents/upload?week_id=${week.id}`, en.file, (p) => patchUpload(en.key, { progress: p }));
          const dup = r && r.message && !/uploaded successfully/i.test(r.message);
          patchUpload(en.key, { state: dup ? 'duplicate' : 'done', progress: 1 });
          refresh();
        } catch (err) {
          patchUpload(en.key, { state: 'error', error: uploadError(err, en) });
        }
      });
    }
  };
  const onPick = (e) => { add(e.currentTarget.files); e.currentTarget.value = ''; };
  const onDrop = (e) => { e.preventDefault(); setOver(false); add(e.dataTransfer && e.dataTransfer.files); };
  const onDrag = (e) => { e.preventDefault(); if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy'; setOver(true); };

  const reprocess = async (d) => {
    try {
      const n = await post(`/api/documents/${d.id}/reprocess`);
      docs.set({ ...docs.data, items: items.map((x) => (x.id === d.id ? n : x)) });
      show(`${d.original_filename} will be processed again.`);
    } catch (err) {
      show('');
      docs.set({ ...docs.data, items: items.map((x) => (x.id === d.id ? { ...x, actionError: err } : x)) });
    }
  };
  const remove = (d) => async () => {
    await del(`/api/documents/${d.id}`);
    show(`${d.original_filename} was deleted.`);
    refresh();
    onSettled();
  };

  const pending = uploads.filter((u) => u.state === 'waiting' || u.state === 'uploading').length;
  const finished = uploads.length - pending;
  return html`<section class="card" aria-labelledby="w-readings">
    <h2 id="w-readings">Readings</h2>
    <div class=${`dropzone${over ? ' over' : ''}`} onDragOver=${onDrag} onDragEnter=${onDrag}
      onDragLeave=${() => setOver(false)} onDrop=${onDrop}>
      <label for=${fileId}>Upload PDF</label>
      <input id=${fileId} type="file" accept="application/pdf,.pdf" multiple onChange=${onPick} aria-describedby=${`${fileId}-hint`} />
      <p class="hint" id=${`${fileId}-hint`}>Choose one or more PDF files, or drag them onto this box.</p>
    </div>
    ${uploads.length > 0 && html`<div class="uploads">
      <p class="uploads-summary" role="status">${pending > 0 ? `Uploading: ${finished} of ${uploads.length} files done.` : `All ${uploads.length} ${uploads.length === 1 ? 'upload' : 'uploads'} finished.`}</p>
      <ul class="list">
        ${uploads.map((u) => html`<li class="upload">
          <span class="upload-name">${u.name}</span> <span class="muted">${fmtBytes(u.size)}</span>
          ${(u.state === 'uploading' || u.state === 'waiting') && html`<progress max="100" value=${Math.round(u.progress * 100)} aria-label=${`Uploading ${u.name}`}></progress>
            <span class="muted">${u.state === 'waiting' ? 'waiting' : `${Math.round(u.progress * 100)}%`}</span>`}
          ${u.state === 'done' && html`<span class="tag ok">uploaded</span>`}
          ${u.state === 'duplicate' && html`<span class="tag">already in this week</span>`}
          ${u.state === 'error' && html`<p class="error">${u.error}</p>`}
        </li>`)}
      </ul>
      ${pending === 0 && html`<button type="button" class="link" onClick=${() => setUploads([])}>Clear this list</button>`}
    </div>`}
    <${Notice}>${note}<//>
    <${ErrorMsg} error=${docs.error} />
    ${!docs.data && docs.loading && html`<${Loading} label="Loading readings…" />`}
    ${docs.data && (items.length === 0
      ? html`<${Empty}>No readings yet. Students can start sessions once a reading is processed.<//>`
      : html`<h3 class="sub" id="w-docs">Documents in this week (${items.length})</h3>
        <ul class="list docs" aria-labelledby="w-docs">
          ${items.map((d) => html`<${DocRow} key=${d.id} d=${d} onReprocess=${() => reprocess(d)} onDelete=${remove(d)} />`)}
        </ul>`)}
  </section>`;
}

function uploadError(err, en) {
  switch (err.status) {
    case 413: return `${en.name} is too large to upload (${fmtBytes(en.size)}). ${err.detail && !/too large for the server/.test(err.detail) ? err.detail : 'Split it or compress it, then try again.'}`;
    case 415: return `${en.name}: ${cap(err.detail) || 'this file is not a PDF'}.`;
    default: return `${en.name}: ${cap(err.detail || err.message)}.`;
  }
}

function DocRow({ d, onReprocess, onDelete }) {
  const hid = `d${useId()}`;
  const working = d.status === 'queued' || d.status === 'processing';
  return html`<li class="doc" aria-labelledby=${hid}>
    <div class="doc-main">
      <h4 id=${hid} class="doc-name">${d.original_filename}</h4>
      <p class="muted doc-meta">${[fmtBytes(d.file_size), d.page_count ? `${d.page_count} ${d.page_count === 1 ? 'page' : 'pages'}` : '', d.status === 'processed' ? `${d.chunk_count} passages` : '', `added ${fmtDate(d.uploaded_at)}`].filter(Boolean).join(' · ')}</p>
      <p class="doc-status">Status: <span class=${`tag ${statusClass(d.status)}`}>${docStatus(d)}</span></p>
      ${d.warnings && d.warnings.length > 0 && html`<div class="doc-warn">
        <p><strong>Check this reading:</strong> parts of it look like instructions to an AI model.</p>
        <ul>${d.warnings.map((wn) => html`<li>${wn}</li>`)}</ul>
      </div>`}
      <${ErrorMsg} error=${d.actionError} />
    </div>
    <div class="row-actions">
      <${DownloadLink} class="button" path=${`/api/documents/${d.id}/file`} filename=${d.original_filename} name=${`Download ${d.original_filename}`}>Download<//>
      <button type="button" onClick=${onReprocess} disabled=${working} aria-label=${`Reprocess ${d.original_filename}`}>Reprocess</button>
      <${ConfirmButton} label="Delete" name=${`Delete ${d.original_filename}`} confirmLabel="Yes, delete it" onConfirm=${onDelete}
        question=${`Delete ${d.original_filename}? The tutor will no longer draw on it.`} />
    </div>
  </li>`;
}

function WeekSearch({ week }) {
  const [query, setQuery] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [hits, setHits] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const q = query.trim();
    if (!q) { setError({ detail: 'Type something to search for.' }); return; }
    setBusy(true); setError(null);
    try {
      const r = await post(`/api/weeks/${week.id}/search`, { query: q, k: 5 });
      setHits({ q, items: r.items || [] });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<section class="card" aria-labelledby="w-search">
    <h2 id="w-search">Try the week's search</h2>
    <p class="muted">The passages the tutor would draw on for a question.</p>
    <form class="inline-form" onSubmit=${submit} novalidate role="search" aria-label="Search the week's readings">
      <${Field} label="Search the readings" type="search" value=${query} onInput=${(e) => setQuery(e.currentTarget.value)} maxlength="1000" />
      <button type="submit" class="primary" disabled=${busy}>${busy ? 'Searching…' : 'Search'}</button>
    </form>
    <${ErrorMsg} error=${error} />
    <div aria-live="polite">
      ${hits && (hits.items.length === 0
        ? html`<${Empty}>No passages found for “${hits.q}”.<//>`
        : html`<ol class="hits" aria-label=${`Passages for ${hits.q}`}>
            ${hits.items.map((s) => html`<li class="hit">
              <p class="source-ref"><strong>${s.filename}</strong>${s.page ? `, page ${s.page}` : ''} <span class="muted">· score ${Number(s.score).toFixed(3)}</span></p>
              <blockquote>${s.content}</blockquote>
            </li>`)}
          </ol>`)}
    </div>
  </section>`;
}

// ---------------------------------------------------------------- sessions

function Sessions({ params }) {
  const q = params.query;
  const [filter, setFilter] = useState({
    course_id: q.get('course_id') || '',
    week_id: q.get('week_id') || '',
    user_id: q.get('user_id') || '',
    moderated: q.get('moderated') === 'true',
  });
  const [offset, setOffset] = useState(Number(q.get('offset')) || 0);

  // The filters live in the address too (without a new history entry),
  // so Back from a transcript returns to the same list.
  useEffect(() => {
    const s = new URLSearchParams();
    for (const k of ['course_id', 'week_id', 'user_id']) if (filter[k]) s.set(k, filter[k]);
    if (filter.moderated) s.set('moderated', 'true');
    if (offset) s.set('offset', String(offset));
    const want = `#/sessions${s.toString() ? `?${s}` : ''}`;
    if (location.hash !== want) history.replaceState(history.state, '', want);
  }, [filter, offset]);

  const courses = useAsync((signal) => get('/api/courses?limit=200', { signal }), []);
  const course = useAsync((signal) => (filter.course_id ? get(`/api/courses/${filter.course_id}`, { signal }) : Promise.resolve(null)), [filter.course_id]);
  const students = useAsync((signal) => (filter.course_id ? get(`/api/courses/${filter.course_id}/students?limit=200`, { signal }) : Promise.resolve(null)), [filter.course_id]);
  const query = useMemo(() => {
    const s = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
    for (const k of ['course_id', 'week_id', 'user_id']) if (filter[k]) s.set(k, filter[k]);
    if (filter.moderated) s.set('moderated', 'true');
    return s.toString();
  }, [filter, offset]);
  const sessions = useAsync((signal) => paged(get(`/api/sessions?${query}`, { signal }), offset), [query]);

  const set = (k, v) => {
    const n = { ...filter, [k]: v };
    if (k === 'course_id') { n.week_id = ''; n.user_id = ''; }
    setFilter(n);
    setOffset(0);
  };
  const courseOpts = [['', 'All courses'], ...((courses.data && courses.data.items) || []).map((c) => [String(c.id), `${c.code}: ${c.name}`])];
  const weekOpts = [['', filter.course_id ? 'All weeks' : 'Choose a course first'],
    ...(((course.data && course.data.weeks) || []).slice().sort((a, b) => a.week_number - b.week_number)
      .map((w) => [String(w.id), `Week ${w.week_number}${w.title ? `: ${w.title}` : ''}`]))];
  const studentOpts = [['', filter.course_id ? 'All students' : 'Choose a course first'],
    ...((students.data && students.data.items) || []).map((u) => [String(u.id), `${personName(u)} (${u.email})`])];
  // A student filter from a link (a student's "Sessions") is kept even
  // before the course's student list arrives.
  if (filter.user_id && !studentOpts.some(([v]) => v === filter.user_id)) studentOpts.push([filter.user_id, `Student #${filter.user_id}`]);
  if (filter.week_id && !weekOpts.some(([v]) => v === filter.week_id)) weekOpts.push([filter.week_id, `Week #${filter.week_id}`]);
  const list = sessions.data;
  const csvCourses = filter.course_id
    ? (course.data ? [course.data] : [])
    : ((courses.data && courses.data.items) || []);
  const mid = `m${useId()}`;

  return html`<${Page} title="Sessions">
    <form class="filters card" onSubmit=${(e) => e.preventDefault()} aria-label="Filter sessions">
      <${Select} label="Course" options=${courseOpts} value=${filter.course_id} onChange=${(e) => set('course_id', e.currentTarget.value)} />
      <${Select} label="Week" options=${weekOpts} value=${filter.week_id} disabled=${!filter.course_id} onChange=${(e) => set('week_id', e.currentTarget.value)} />
      <${Select} label="Student" options=${studentOpts} value=${filter.user_id} disabled=${!filter.course_id && !filter.user_id} onChange=${(e) => set('user_id', e.currentTarget.value)} />
      <div class="check">
        <input type="checkbox" id=${mid} checked=${filter.moderated} onChange=${(e) => set('moderated', e.currentTarget.checked)} />
        <label for=${mid}>Moderated only</label>
      </div>
    </form>
    <${ErrorMsg} error=${sessions.error} />
    ${!list && sessions.loading && html`<${Loading} label="Loading sessions…" />`}
    ${list && html`<p class="muted" role="status">${list.total === 0 ? 'No sessions match.' : `${list.total} ${list.total === 1 ? 'session' : 'sessions'}`}${sessions.loading ? ' · updating…' : ''}</p>`}
    ${list && list.items.length > 0 && html`<div class="table-wrap">
      <table class="sessions stack" role="table">
        <caption class="visually-hidden">Sessions, newest first</caption>
        <thead role="rowgroup"><tr role="row"><th scope="col" role="columnheader">Student</th><th scope="col" role="columnheader">Week</th><th scope="col" role="columnheader">Date</th><th scope="col" role="columnheader">Duration</th><th scope="col" role="columnheader">Moderated</th></tr></thead>
        <tbody role="rowgroup">
          ${list.items.map((s) => html`<tr role="row">
            <td role="cell" data-label="Student"><a href=${`#/sessions/${s.id}`}>${personName(s.student)}</a></td>
            <td role="cell" data-label="Week">${s.course_code} · Week ${s.week_number}${s.week_title ? `: ${s.week_title}` : ''}</td>
            <td role="cell" data-label="Date">${fmtDate(s.started_at)}</td>
            <td role="cell" data-label="Duration">${s.status === 'active' ? html`<span class="tag warn">in progress</span>` : fmtDuration(s.duration_seconds)}</td>
            <td role="cell" data-label="Moderated">${s.moderated_count > 0
              ? html`<span class="tag bad">Moderated${s.moderated_count > 1 ? ` (${s.moderated_count} turns)` : ''}</span>`
              : html`<span class="muted">No</span>`}</td>
          </tr>`)}
        </tbody>
      </table>
    </div>`}
    ${list && html`<${Pager} total=${list.total} offset=${list.offset} busy=${sessions.loading} onChange=${setOffset} label="Pages of sessions" />`}
    ${csvCourses.length > 0 && html`<section class="card csv" aria-labelledby="s-csv">
      <h2 id="s-csv">Export</h2>
      <p class="muted">Every session of a course as a spreadsheet (CSV).</p>
      <ul class="list">
        ${csvCourses.map((c) => html`<li><${DownloadLink} path=${`/api/courses/${c.id}/sessions.csv`} filename=${csvName(c)}>Download CSV<//> <span class="muted">${c.code}: ${c.name}</span></li>`)}
      </ul>
    </section>`}
  <//>`;
}

function SessionPage({ params }) {
  const id = params.id;
  const sess = useAsync((signal) => get(`/api/sessions/${id}`, { signal }), [id]);
  const s = sess.data;
  if (!s) {
    return html`<${Page} title="Session"><p class="crumbs"><a href="#/sessions">All sessions</a></p><${ErrorMsg} error=${sess.error} />${sess.loading && html`<${Loading} />`}<//>`;
  }
  const name = personName(s.student);
  return html`<${Page} title=${`Session with ${name}`}>
    <p class="crumbs"><a href="#/sessions">All sessions</a></p>
    <div class="card">
      <dl class="facts">
        <div><dt>Student</dt><dd>${name}${s.student && s.student.email ? html` <span class="muted">(${s.student.email})</span>` : ''}</dd></div>
        <div><dt>Course</dt><dd><a href=${`#/courses/${s.course_id}`}>${s.course_code}: ${s.course_name}</a></dd></div>
        <div><dt>Week</dt><dd><a href=${`#/weeks/${s.week_id}`}>Week ${s.week_number}${s.week_title ? `: ${s.week_title}` : ''}</a></dd></div>
        <div><dt>Started</dt><dd>${fmtDate(s.started_at)}</dd></div>
        <div><dt>Duration</dt><dd>${s.status === 'active' ? 'in progress' : fmtDuration(s.duration_seconds)}</dd></div>
        ${s.theme && html`<div><dt>Opening theme</dt><dd>${s.theme}</dd></div>`}
        <div><dt>Moderated</dt><dd>${s.moderated_count > 0 ? html`<span class="tag bad">Moderated: ${s.moderated_count} ${s.moderated_count === 1 ? 'turn' : 'turns'}</span>` : 'No'}</dd></div>
      </dl>
      <p><${DownloadLink} path=${`/api/courses/${s.course_id}/sessions.csv`} filename=${csvName({ code: s.course_code })}>Download CSV<//> <span class="muted">of every session in ${s.course_code}</span></p>
    </div>
    ${s.has_audio && html`<${Recording} id=${id} />`}
    <section aria-labelledby="s-transcript">
      <h2 id="s-transcript">Transcript</h2>
      <${Transcript} turns=${s.transcript} studentName=${name} />
    </section>
  <//>`;
}

function Recording({ id }) {
  const [url, setUrl] = useState('');
  const [error, setError] = useState(null);
  useEffect(() => {
    let u = '';
    let live = true;
    blob(`/api/sessions/${id}/audio`)
      .then((b) => { if (live) { u = URL.createObjectURL(b); setUrl(u); } })
      .catch((e) => { if (live) setError(e.status === 404 ? { detail: 'The recording is no longer available.' } : e); });
    return () => { live = false; if (u) URL.revokeObjectURL(u); };
  }, [id]);
  return html`<section class="card" aria-labelledby="s-audio">
    <h2 id="s-audio">Recording</h2>
    <${ErrorMsg} error=${error} />
    ${!url && !error && html`<${Loading} label="Loading the recording…" />`}
    ${url && html`<audio controls preload="metadata" src=${url} aria-label="Recording of the session"></audio>`}
  </section>`;
}

export const nav = [
  { href: '#/', label: 'Courses' },
  { href: '#/sessions', label: 'Sessions' },
];

export const routes = {
  '/': Courses,
  '/courses/:id': CoursePage,
  '/weeks/:id': WeekPage,
  '/sessions': Sessions,
  '/sessions/:id': SessionPage,
};
