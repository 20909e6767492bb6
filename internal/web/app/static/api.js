// The API client: every call to the server goes through here. The access
// token lives in memory and in sessionStorage (so a reload keeps the tab
// signed in, and closing the tab signs it out) — never in localStorage,
// which every tab and every later visit would share.

const TOKEN_KEY = 'socratic.token';
let token = null;
try { token = sessionStorage.getItem(TOKEN_KEY); } catch { token = null; }

let onUnauthorized = () => {};

// setToken keeps (or, with null, forgets) the access token.
export function setToken(t) {
  token = t || null;
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch { /* storage refused (private mode): memory still holds it */ }
}

export function getToken() { return token; }

// whenUnauthorized sets what happens when the server answers 401 to a
// signed-in call: main.js sends the person back to sign in, with a message.
export function whenUnauthorized(fn) { onUnauthorized = fn; }

// ApiError is a failed call, carrying the problem's words.
export class ApiError extends Error {
  constructor(status, detail, fields, retryAfter) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.fields = fields || []; // [{field, message}]
    this.retryAfter = retryAfter; // seconds, for 429 and 503
  }
}

const GENERIC = {
  0: 'Could not reach the server. Check your connection and try again.',
  413: 'That is too large for the server to accept.',
  429: 'Too many requests. Please wait a moment and try again.',
  500: 'Something went wrong on the server. Please try again.',
  502: 'The server is unavailable right now. Please try again shortly.',
  503: 'The server is busy right now. Please try again shortly.',
  504: 'The server took too long to answer. Please try again.',
};

// problemFrom turns a failed response into an ApiError with words a
// person can read: the problem's detail, else a sentence for the status —
// never raw JSON.
export async function problemFrom(res) {
  let detail = '', fields = [];
  const type = res.headers.get('Content-Type') || '';
  if (type.includes('json')) {
    try {
      const p = await res.json();
      if (p && typeof p.detail === 'string') detail = p.detail;
      if (p && Array.isArray(p.errors)) {
        fields = p.errors.map((e) => ({
          field: String(e.location || '').replace(/^body\./, ''),
          message: String(e.message || ''),
        }));
      }
    } catch { /* not JSON after all */ }
  }
  if (!detail) detail = GENERIC[res.status] || GENERIC[Math.floor(res.status / 100) * 100] || `The request failed (${res.status}).`;
  const ra = Number(res.headers.get('Retry-After'));
  return new ApiError(res.status, detail, fields, Number.isFinite(ra) && ra > 0 ? ra : undefined);
}

function headers(extra) {
  const h = { Accept: 'application/json', ...extra };
  if (token) h.Authorization = `Bearer ${token}`;
  return h;
}

async function send(method, path, init) {
  let res;
  try {
    res = await fetch(path, { method, ...init });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, GENERIC[0]);
  }
  if (res.status === 401 && token) {
    const err = await problemFrom(res);
    setToken(null);
    onUnauthorized(err.detail);
    throw err;
  }
  if (!res.ok) throw await problemFrom(res);
  return res;
}

// api calls a JSON endpoint and returns its answer (null for 204).
// body, when given, is sent as JSON; opts.signal cancels the call.
export async function api(method, path, body, opts = {}) {
  const init = { headers: headers(body === undefined ? {} : { 'Content-Type': 'application/json' }), signal: opts.signal };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await send(method, path, init);
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') || '';
  return type.includes('json') ? res.json() : res.text();
}

export const get = (path, opts) => api('GET', path, undefined, opts);
export const post = (path, body, opts) => api('POST', path, body === undefined ? {} : body, opts);
export const patch = (path, body, opts) => api('PATCH', path, body, opts);
export const del = (path, opts) => api('DELETE', path, undefined, opts);

// blob fetches a file the API serves behind sign-in (a recording, a PDF,
// a CSV) and returns it as a Blob, for an object URL.
export async function blob(path, opts = {}) {
  const res = await send('GET', path, { headers: headers({ Accept: '*/*' }), signal: opts.signal });
  return res.blob();
}

// postForm sends multipart form data (a session's recording with End),
// with no upload progress.
export async function postForm(path, form, opts = {}) {
  const res = await send('POST', path, { headers: headers(), body: form, signal: opts.signal });
  return res.status === 204 ? null : res.json();
}

// upload sends one file as multipart field "file" (opts.field names
// another: a session's recording is "audio"), reporting progress as
// a fraction (0..1) to onProgress; fetch cannot report upload progress, so
// this uses XMLHttpRequest. It resolves to the JSON answer.
export function upload(path, file, onProgress, opts = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.setRequestHeader('Accept', 'application/json');
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total); };
    xhr.onerror = () => reject(new ApiError(0, GENERIC[0]));
    xhr.onabort = () => reject(new DOMException('aborted', 'AbortError'));
    xhr.onload = async () => {
      const res = new Response(xhr.response, { status: xhr.status, headers: { 'Content-Type': xhr.getResponseHeader('Content-Type') || '', 'Retry-After': xhr.getResponseHeader('Retry-After') || '' } });
      if (xhr.status === 401 && token) {
        const err = await problemFrom(res);
        setToken(null);
        onUnauthorized(err.detail);
        reject(err);
        return;
      }
      if (xhr.status < 200 || xhr.status >= 300) { reject(await problemFrom(res)); return; }
      try { resolve(await res.json()); } catch { resolve(null); }
    };
    if (opts.signal) opts.signal.addEventListener('abort', () => xhr.abort());
    const form = new FormData();
    form.append(opts.field || 'file', file, file.name);
    xhr.send(form);
  });
}

// stream POSTs JSON to an event-stream endpoint and calls on[event](data)
// for each server-sent event as it arrives (data parsed as JSON). It
// resolves when the stream ends. A failure before the stream starts
// rejects with an ApiError; an "error" event is passed to on.error.
export async function stream(path, body, on, opts = {}) {
  const res = await send('POST', path, {
    headers: headers({ 'Content-Type': 'application/json', Accept: 'text/event-stream' }),
    body: JSON.stringify(body),
    signal: opts.signal,
  });
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  let event = 'message', data = [];
  const dispatch = () => {
    if (data.length) {
      let parsed;
      try { parsed = JSON.parse(data.join('\n')); } catch { parsed = data.join('\n'); }
      if (on[event]) on[event](parsed);
    }
    event = 'message'; data = [];
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + (buf.startsWith('\r\n', nl) ? 2 : 1));
      if (line === '') { dispatch(); continue; }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let val = colon < 0 ? '' : line.slice(colon + 1);
      if (val.startsWith(' ')) val = val.slice(1);
      if (field === 'event') event = val;
      else if (field === 'data') data.push(val);
    }
  }
  dispatch();
}
