// Pieces the professor's and the admin's screens share: paging, polling,
// a confirmation whose button names what it acts on, an authenticated
// download link, statuses in words, sources and transcripts.
import { blob } from './api.js';
import { html, Fragment, useState, useEffect, useRef, useId, ErrorMsg, Empty } from './ui.js';

export const PAGE = 50;

// Pager moves through a long list by limit/offset. It shows nothing when
// everything fits on one page.
export function Pager({ total, limit = PAGE, offset = 0, onChange, label = 'Pages', busy }) {
  if (!total || (total <= limit && offset === 0)) return null;
  const first = Math.min(offset + 1, total);
  const last = Math.min(offset + limit, total);
  return html`<nav class="pager" aria-label=${label}>
    <button type="button" disabled=${busy || offset <= 0} onClick=${() => onChange(Math.max(0, offset - limit))}>Previous page</button>
    <span class="pager-where">${first}–${last} of ${total}</span>
    <button type="button" disabled=${busy || last >= total} onClick=${() => onChange(offset + limit)}>Next page</button>
  </nav>`;
}

// paged tags a list's answer with the offset it was asked for, so the
// pager shows the page that is on screen, not the one still loading.
export function paged(promise, offset) {
  return promise.then((d) => ({ ...d, offset }));
}

// usePoll calls fn every ms milliseconds while active is true.
export function usePoll(fn, ms, active) {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    if (!active) return undefined;
    const t = setInterval(() => saved.current(), ms);
    return () => clearInterval(t);
  }, [active, ms]);
}

// useNotice is a status line that clears itself after a while.
export function useNotice(ms = 6000) {
  const [text, setText] = useState('');
  const timer = useRef(0);
  useEffect(() => () => clearTimeout(timer.current), []);
  const show = (t) => {
    setText(t);
    clearTimeout(timer.current);
    if (t) timer.current = setTimeout(() => setText(''), ms);
  };
  return [text, show];
}

// ConfirmButton is ui.js's Confirm with an accessible name of its own, so
// a list of "Remove" buttons says what each removes ("Remove Ada Lovelace").
export function ConfirmButton({ label, name, question, confirmLabel = 'Delete', onConfirm, cls = 'danger', disabled }) {
  const ref = useRef(null);
  const qid = `q${useId()}`;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const open = () => { setError(null); ref.current.showModal(); };
  const yes = async () => {
    setBusy(true); setError(null);
    try {
      await onConfirm();
      if (ref.current && ref.current.open) ref.current.close();
    } catch (e) { setError(e); } finally { setBusy(false); }
  };
  return html`<${Fragment}>
    <button type="button" class=${cls} onClick=${open} disabled=${disabled} aria-label=${name || undefined}>${label}</button>
    <dialog ref=${ref} class="confirm" aria-label=${name || label} aria-describedby=${qid}>
      <p id=${qid}>${question}</p>
      <${ErrorMsg} error=${error} />
      <div class="actions">
        <button type="button" onClick=${() => ref.current.close()}>Cancel</button>
        <button type="button" class="danger" onClick=${yes} disabled=${busy}>${busy ? 'Working…' : confirmLabel}</button>
      </div>
    </dialog>
  <//>`;
}

// DownloadLink is a link to a file the API serves behind sign-in (a CSV).
// A plain href cannot carry the bearer token, so the first click fetches
// the file, turns it into an object URL and follows the link again with
// it; a later click fetches a fresh copy.
export function DownloadLink({ path, filename, children, class: cls, name }) {
  const ref = useRef(null);
  const armed = useRef(false);
  const [url, setUrl] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  useEffect(() => () => { if (url) URL.revokeObjectURL(url); }, [url]);
  useEffect(() => {
    if (url && armed.current && ref.current) ref.current.click();
  }, [url]);
  const click = async (e) => {
    if (armed.current) { armed.current = false; return; } // the object URL's own click
    e.preventDefault();
    if (busy) return;
    setBusy(true); setError(null);
    try {
      const b = await blob(path);
      armed.current = true;
      setUrl(URL.createObjectURL(b));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<span class="download">
    <a ref=${ref} class=${cls} href=${url || '#'} download=${filename} onClick=${click} aria-label=${name || undefined} aria-busy=${busy ? 'true' : undefined}>${children}</a>
    ${busy && html`<span class="muted"> Preparing…</span>`}
    <${ErrorMsg} error=${error} />
  </span>`;
}

// docStatus is a document's status in words: queued, processing (with
// pages read so far), processed, or "failed: <reason>".
export function docStatus(d) {
  switch (d.status) {
    case 'failed': return `failed: ${d.error || 'the reading could not be processed'}`;
    case 'processing': return d.page_count ? `processing (page ${Math.min(d.pages_done || 0, d.page_count)} of ${d.page_count})` : 'processing';
    default: return d.status;
  }
}

export function statusClass(s) {
  return { processed: 'ok', failed: 'bad', processing: 'warn', queued: 'warn' }[s] || '';
}

// Sources lists the passages a reply drew on, behind a disclosure.
export function Sources({ sources }) {
  if (!sources || sources.length === 0) return null;
  return html`<details class="sources">
    <summary>Sources (${sources.length})</summary>
    <ol>
      ${sources.map((s) => html`<li>
        <p class="source-ref"><strong>${s.filename}</strong>${s.page ? `, page ${s.page}` : ''}</p>
        <blockquote>${s.content}</blockquote>
      </li>`)}
    </ol>
  </details>`;
}

// Transcript shows a session's turns, the student's and the tutor's,
// marking moderated and unanswered turns and each reply's sources.
export function Transcript({ turns, studentName = 'Student' }) {
  if (!turns || turns.length === 0) return html`<${Empty}>Nothing was said in this session.<//>`;
  return html`<ol class="transcript">
    ${turns.map((t) => html`<li class=${`turn ${t.role === 'user' ? 'from-student' : 'from-tutor'}${t.moderated ? ' moderated' : ''}`}>
      <p class="turn-head">
        <strong>${t.role === 'user' ? studentName : 'Tutor'}</strong>
        <span class="muted"> · <time datetime=${t.at}>${fmtTime(t.at)}</time></span>
        ${t.moderated && html` <span class="tag bad">Moderated${t.categories && t.categories.length ? `: ${t.categories.join(', ').replace(/_/g, ' ')}` : ''}</span>`}
        ${t.unanswered && html` <span class="tag warn">Not answered</span>`}
      </p>
      <p class="turn-text">${t.content}</p>
      <${Sources} sources=${t.sources} />
    </li>`)}
  </ol>`;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });
function fmtTime(s) {
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? '' : timeFmt.format(d);
}

// personName is how a student is named on staff screens.
export function personName(p) {
  if (!p) return 'Unknown student';
  return p.full_name || p.username || p.email || 'Unknown student';
}
