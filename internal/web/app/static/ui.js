// Shared pieces of the interface: the template tag, hooks, and small
// components every screen uses (fields, errors, loading and empty states,
// confirmation), plus formatting.
import { h, render, Fragment } from './preact.js';
import { useState, useEffect, useRef, useCallback, useMemo, useId, useLayoutEffect } from './hooks.js';
import htm from './htm.js';

export const html = htm.bind(h);
export { render, Fragment, useState, useEffect, useRef, useCallback, useMemo, useId, useLayoutEffect };

// settings are what the server told the page (data attributes on <body>).
const d = document.body.dataset;
export const settings = {
  appName: d.appName || 'Socratic',
  appVersion: d.appVersion || '',
  allowRegistration: d.allowRegistration !== 'false',
  registrationRequiresJoinCode: d.registrationRequiresJoinCode === 'true',
  voiceProvider: d.voiceProvider || 'browser',
  sessionMaxDuration: Number(d.sessionMaxDuration) || 300,
  assetBase: d.assetBase || '',
};

// navigate goes to a client route ("#/courses/3").
export function navigate(to) {
  if (location.hash === to) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = to;
}

// useTitle sets the document's title for a screen.
export function useTitle(title) {
  useEffect(() => { document.title = title ? `${title} · ${settings.appName}` : settings.appName; }, [title]);
}

// useAsync runs load() when deps change and keeps {data, error, loading,
// reload}. A result that arrives after the screen moved on is dropped.
export function useAsync(load, deps) {
  const [state, setState] = useState({ data: undefined, error: null, loading: true });
  const seq = useRef(0);
  const run = useCallback(() => {
    const n = ++seq.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    const ctrl = new AbortController();
    Promise.resolve()
      .then(() => load(ctrl.signal))
      .then((data) => { if (n === seq.current) setState({ data, error: null, loading: false }); })
      .catch((error) => { if (n === seq.current && error.name !== 'AbortError') setState((s) => ({ ...s, error, loading: false })); });
    return () => ctrl.abort();
  }, deps);
  useEffect(run, [run]);
  return { ...state, reload: run, set: (data) => setState((s) => ({ ...s, data })) };
}

// ErrorMsg shows a failure in words (the problem's detail and any field
// messages), announced to screen readers.
export function ErrorMsg({ error, id }) {
  if (!error) return null;
  const detail = typeof error === 'string' ? error : error.detail || error.message || 'Something went wrong.';
  const fields = (error.fields || []).filter((f) => f.message && !detail.includes(f.message));
  return html`<div class="error" role="alert" id=${id}>
    <p>${detail}</p>
    ${fields.length > 0 && html`<ul>${fields.map((f) => html`<li>${f.field ? `${label(f.field)}: ` : ''}${f.message}</li>`)}</ul>`}
  </div>`;
}

function label(field) {
  return field.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

// Notice is a quiet status line (saved, copied, uploaded).
export function Notice({ children }) {
  if (!children) return null;
  return html`<p class="notice" role="status">${children}</p>`;
}

export function Loading({ label: text = 'Loading…' }) {
  return html`<p class="loading" role="status" aria-live="polite"><span class="spinner" aria-hidden="true"></span>${text}</p>`;
}

export function Empty({ children }) {
  return html`<p class="empty">${children}</p>`;
}

// Field is a labelled input; extra props go to the input.
export function Field({ label: text, hint, error, id, ...props }) {
  const auto = useId();
  const fid = id || `f${auto}`;
  const hintId = hint ? `${fid}-hint` : undefined;
  return html`<div class="field">
    <label for=${fid}>${text}</label>
    <input id=${fid} aria-describedby=${hintId} aria-invalid=${error ? 'true' : undefined} ...${props} />
    ${hint && html`<p class="hint" id=${hintId}>${hint}</p>`}
  </div>`;
}

// TextArea is a labelled multi-line field.
export function TextArea({ label: text, hint, id, ...props }) {
  const auto = useId();
  const fid = id || `f${auto}`;
  const hintId = hint ? `${fid}-hint` : undefined;
  return html`<div class="field">
    <label for=${fid}>${text}</label>
    <textarea id=${fid} aria-describedby=${hintId} ...${props}></textarea>
    ${hint && html`<p class="hint" id=${hintId}>${hint}</p>`}
  </div>`;
}

// Select is a labelled drop-down; options are [value, text] pairs.
export function Select({ label: text, options, id, ...props }) {
  const auto = useId();
  const fid = id || `f${auto}`;
  return html`<div class="field">
    <label for=${fid}>${text}</label>
    <select id=${fid} ...${props}>${options.map(([v, t]) => html`<option value=${v}>${t}</option>`)}</select>
  </div>`;
}

// Confirm asks before something that cannot be undone: a button that
// opens a native <dialog> (focus is trapped and Escape cancels) with the
// question and two buttons.
export function Confirm({ label: text, question, confirmLabel = 'Delete', onConfirm, class: cls = 'danger', disabled }) {
  const ref = useRef(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const open = () => { setError(null); ref.current.showModal(); };
  const yes = async () => {
    setBusy(true); setError(null);
    try { await onConfirm(); ref.current && ref.current.close(); } catch (e) { setError(e); } finally { setBusy(false); }
  };
  return html`<${Fragment}>
    <button type="button" class=${cls} onClick=${open} disabled=${disabled}>${text}</button>
    <dialog ref=${ref} class="confirm" aria-label=${text}>
      <p>${question}</p>
      <${ErrorMsg} error=${error} />
      <div class="actions">
        <button type="button" onClick=${() => ref.current.close()}>Cancel</button>
        <button type="button" class="danger" onClick=${yes} disabled=${busy}>${busy ? 'Working…' : confirmLabel}</button>
      </div>
    </dialog>
  <//>`;
}

// Formatting.
const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
export function fmtDate(s) {
  if (!s) return '';
  const t = new Date(s);
  return Number.isNaN(t.getTime()) ? '' : dateFmt.format(t);
}

// fmtClock is seconds as m:ss.
export function fmtClock(sec) {
  const s = Math.max(0, Math.floor(sec));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

// fmtDuration is seconds in words ("4 min 05 s").
export function fmtDuration(sec) {
  if (sec == null) return '';
  const s = Math.max(0, Math.round(sec));
  if (s < 60) return `${s} s`;
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

export function fmtBytes(n) {
  if (n == null) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

// Page wraps a screen: its heading (focused when the route changes, so a
// screen reader hears where it is) and content.
export function Page({ title, children, actions }) {
  useTitle(title);
  const ref = useRef(null);
  useEffect(() => { if (ref.current && document.activeElement === document.body) ref.current.focus({ preventScroll: true }); }, [title]);
  return html`<section class="page">
    <div class="page-head">
      <h1 tabindex="-1" ref=${ref}>${title}</h1>
      ${actions && html`<div class="page-actions">${actions}</div>`}
    </div>
    ${children}
  </section>`;
}
