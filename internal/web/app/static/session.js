// The tutoring session: the live screen (countdown from the server's
// expires_at, the conversation streaming in, voice in the browser — or,
// when the server's voice is ElevenLabs, its agent through the vendored
// SDK (elevenlabs.js, loaded only then) or replies spoken by the server —
// the recording sent with End) and the transcript of a session that has
// ended (with its recording).
import { get, post, stream, upload, blob as getBlob } from './api.js';
import {
  html, useState, useEffect, useRef, useMemo, useId, useLayoutEffect, useAsync,
  ErrorMsg, Loading, Page, fmtClock, fmtDate, fmtDuration, fmtBytes, settings,
} from './ui.js';
import { Speaker, Listener, recognitionClass, speechAvailable } from './voice.js';
import { recorderFor, forgetRecorder } from './recorder.js';

const MAX_MESSAGE = 4000;

// What the page keeps about a session between reloads of the tab
// (sessionStorage): the clock's offset from the server's, whether the
// student agreed to be recorded, the voice provider, the unsent draft.
const key = (id) => `socratic.session.${id}`;
function recall(id) {
  try { return JSON.parse(sessionStorage.getItem(key(id))) || {}; } catch { return {}; }
}
function store(id, info) {
  try { sessionStorage.setItem(key(id), JSON.stringify({ ...recall(id), ...info })); } catch { /* private mode: memory only */ }
}
function forget(id) {
  try { sessionStorage.removeItem(key(id)); sessionStorage.removeItem(`${key(id)}.draft`); } catch { /* nothing kept */ }
}
function loadDraft(id) {
  try { return sessionStorage.getItem(`${key(id)}.draft`) || ''; } catch { return ''; }
}
function saveDraft(id, text) {
  try {
    if (text) sessionStorage.setItem(`${key(id)}.draft`, text);
    else sessionStorage.removeItem(`${key(id)}.draft`);
  } catch { /* memory only */ }
}

// startSession starts a session of the week and remembers what the
// session screen needs; it resolves to the start answer. t0 and t1 bracket
// the request, so the offset of this computer's clock from the server's is
// known (the countdown runs against the server's expires_at).
export async function startSession(weekId, record) {
  const body = { week_id: Number(weekId) };
  // The server only distinguishes the modes when it does the voice. With
  // ElevenLabs the voice needs a microphone, not the browser's recognition.
  const canRecord = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  if (settings.voiceProvider !== 'browser') body.mode = (settings.voiceProvider === 'elevenlabs' ? canRecord : recognitionClass()) ? 'voice' : 'text';
  let t0 = Date.now();
  let res;
  try {
    res = await post('/api/sessions/start', body);
  } catch (e) {
    // A server that does not know "mode" yet refuses it (422): start
    // without it.
    if (!(e.status === 422 && body.mode && (e.fields || []).some((f) => f.field === 'mode'))) throw e;
    delete body.mode;
    t0 = Date.now();
    res = await post('/api/sessions/start', body);
  }
  const t1 = Date.now();
  const serverStart = Date.parse(res.expires_at) - res.max_duration * 1000;
  const skew = Number.isFinite(serverStart) ? serverStart - (t0 + t1) / 2 : 0;
  // The voice block (ElevenLabs' credentials, the session token) is kept
  // for this tab only, like the sign-in token.
  store(res.session_id, { skew, record: !!record, voiceProvider: (res.voice && res.voice.provider) || settings.voiceProvider, voice: res.voice || null });
  return res;
}

// The consent choice for recording, remembered for this tab.
const CONSENT = 'socratic.recordConsent';
export function recordConsent() {
  try { return sessionStorage.getItem(CONSENT); } catch { return null; }
}
export function setRecordConsent(v) {
  try { sessionStorage.setItem(CONSENT, v); } catch { /* asked again next time */ }
}

function newId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

function toTurn(t, i) {
  return { key: `t${i}`, role: t.role, content: t.content, sources: t.sources || null, moderated: !!t.moderated, unanswered: !!t.unanswered };
}

// SessionScreen is the route /sessions/:id: the live session while it is
// active, its transcript once it has ended.
export function SessionScreen({ params }) {
  const id = params.id;
  const s = useAsync((signal) => get(`/api/sessions/${encodeURIComponent(id)}`, { signal }), [id]);
  if (s.error) {
    return html`<${Page} title="Session">
      <${ErrorMsg} error=${s.error} />
      <p><a href="#/sessions">Back to past sessions</a></p>
    <//>`;
  }
  if (!s.data) return html`<${Page} title="Session"><${Loading} /><//>`;
  if (s.data.status === 'active') return html`<${LiveSession} session=${s.data} />`;
  return html`<${PastSession} session=${s.data} />`;
}

function weekName(sess) {
  return `Week ${sess.week_number}${sess.week_title ? `: ${sess.week_title}` : ''}`;
}

// Timer shows the time left as m:ss, computed each tick from the server's
// expires_at and this computer's clock (corrected by skew, ms), so it
// cannot drift however long the tab sleeps; onExpire runs once at zero.
function Timer({ expiresAt, skew, onExpire, stopped }) {
  const end = Date.parse(expiresAt);
  const left = () => Math.max(0, (end - (Date.now() + skew.current)) / 1000);
  const [secs, setSecs] = useState(() => Math.ceil(left()));
  const [said, setSaid] = useState('');
  const expire = useRef(onExpire);
  expire.current = onExpire;
  const labelId = useId();
  useEffect(() => {
    if (stopped) return undefined;
    let fired = false;
    let warned = 0;
    const tick = () => {
      const l = left();
      setSecs(Math.ceil(l));
      if (l <= 60 && l > 50 && warned < 1) { warned = 1; setSaid('One minute left.'); }
      if (l <= 0 && !fired) { fired = true; expire.current(); }
    };
    tick();
    const h = setInterval(tick, 250);
    return () => clearInterval(h);
  }, [end, stopped]);
  const low = !stopped && secs <= 60;
  return html`<div class=${`timer${low ? ' low' : ''}`}>
    <span id=${labelId} class="timer-label">Time left</span>
    <span role="timer" aria-labelledby=${labelId} class="timer-value">${fmtClock(stopped ? 0 : secs)}</span>
    <span class="visually-hidden" role="status">${said}</span>
  </div>`;
}

// Sources lists the passages a reply drew on, behind a button.
function Sources({ sources }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  if (!sources || sources.length === 0) return null;
  return html`<div class="sources">
    <button type="button" class="sources-toggle" aria-expanded=${open ? 'true' : 'false'} aria-controls=${id} onClick=${() => setOpen(!open)}>
      Sources (${sources.length})
    </button>
    <ol id=${id} class="source-list" hidden=${!open}>
      ${sources.map((s, i) => html`<${Passage} key=${s.chunk_id || i} source=${s} />`)}
    </ol>
  </div>`;
}

function Passage({ source }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const short = source.content.length > 220 ? `${source.content.slice(0, 200).trimEnd()}…` : source.content;
  return html`<li class="source">
    <p class="source-where"><span class="source-file">${source.filename}</span>${source.page ? html`, page ${source.page}` : ''}</p>
    <blockquote id=${id} class="passage">${open ? source.content : short}</blockquote>
    ${short !== source.content && html`<button type="button" class="link" aria-expanded=${open ? 'true' : 'false'} aria-controls=${id} onClick=${() => setOpen(!open)}>
      ${open ? 'Show less' : 'Show the whole passage'}
    </button>`}
  </li>`;
}

// Turn is one message of the conversation.
export function Turn({ turn }) {
  const tutor = turn.role === 'assistant';
  return html`<li class=${`turn ${tutor ? 'tutor' : 'student'}${turn.streaming ? ' streaming' : ''}`} data-streaming=${turn.streaming ? 'true' : undefined}>
    <p class="who">${tutor ? 'Tutor' : 'You'}</p>
    <div class="said">
      ${turn.content}${turn.streaming && html`<span class="typing" aria-hidden="true"></span>`}
      ${turn.streaming && !turn.content && html`<span class="visually-hidden">The tutor is answering…</span>`}
    </div>
    ${turn.moderated && html`<p class="tag warn">Moderated</p>`}
    ${turn.unanswered && html`<p class="muted small">Not answered</p>`}
    ${tutor && html`<${Sources} sources=${turn.sources} />`}
  </li>`;
}

// useStickyScroll keeps a scrolling box at its bottom as it grows, unless
// the person has scrolled up to read.
function useStickyScroll(ref, dep) {
  const stick = useRef(true);
  useLayoutEffect(() => {
    const el = ref.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [dep]);
  return () => {
    const el = ref.current;
    if (el) stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
  };
}

// The end's states: what the student sees while the recording goes up.
function EndStatus({ end, onRetry, onWithout }) {
  if (!end) return null;
  if (end.state === 'sending') {
    const pct = end.progress != null ? Math.round(end.progress * 100) : null;
    return html`<div class="end-status" role="status">
      <p>${end.size ? `Ending the session and sending your recording (${fmtBytes(end.size)})…` : 'Ending the session…'}</p>
      ${end.size ? html`<progress max="100" value=${pct == null ? undefined : pct} aria-label="Recording sent">${pct == null ? '' : `${pct}%`}</progress>` : null}
    </div>`;
  }
  if (end.state === 'failed') {
    return html`<div class="end-status">
      <${ErrorMsg} error=${{ detail: `The session could not be ended: ${end.error.detail || end.error.message}`, fields: end.error.fields }} />
      <p>Your conversation is safe on this screen${end.size ? ' and your recording is kept in this tab' : ''}.</p>
      <div class="actions">
        <button type="button" class="primary" onClick=${onRetry}>Try ending again</button>
        ${end.size ? html`<button type="button" onClick=${onWithout}>End without the recording</button>` : null}
      </div>
    </div>`;
  }
  return null;
}

// LiveSession is the session while it runs.
function LiveSession({ session }) {
  const id = session.id;
  const info = useMemo(() => recall(id), [id]);
  const voice = info.voice || null;
  // ElevenLabs agent mode: the SDK holds the spoken conversation. If it
  // cannot connect (or drops), the session falls back to the browser's
  // own voice and typing (fellBack).
  const agentMode = !!voice && voice.provider === 'elevenlabs' && voice.mode === 'agent' && !!voice.signed_url;
  const pipelineMode = !!voice && voice.provider === 'elevenlabs' && voice.mode === 'pipeline';
  const [fellBack, setFellBack] = useState(false);
  const browserVoice = (info.voiceProvider || settings.voiceProvider) === 'browser' || (agentMode && fellBack);
  const canListen = browserVoice && !!recognitionClass();
  const canSpeak = browserVoice && speechAvailable();
  const [agentState, setAgentState] = useState(agentMode ? 'connecting' : 'off'); // connecting | listening | speaking | failed | closed | off
  const [micMuted, setMicMutedState] = useState(false);
  const agent = useRef(null);

  const [turns, setTurns] = useState(() => (session.transcript || []).map(toTurn));
  const [draft, setDraftState] = useState(() => loadDraft(id));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [phase, setPhaseState] = useState('active'); // active | timeup | ending | ended | endfailed
  const [endReason, setEndReason] = useState('');
  const [end, setEnd] = useState(null);
  const [muted, setMutedState] = useState(() => { try { return sessionStorage.getItem('socratic.muted') === '1'; } catch { return false; } });
  const [listening, setListening] = useState(false);
  const [heard, setHeard] = useState('');
  const [voiceNote, setVoiceNote] = useState('');
  const [waitNote, setWaitNote] = useState('');
  const recorder = info.record ? recorderFor(id) : null;
  const [recState, setRecState] = useState(recorder ? recorder.state : 'off');

  const skew = useRef(info.skew || 0);
  const pending = useRef(null); // {text, id}: the last message not yet answered, for a retry under the same id
  const busyRef = useRef(false);
  const phaseRef = useRef('active');
  const draftRef = useRef(draft);
  const streamCtrl = useRef(null);
  const logRef = useRef(null);
  const inputRef = useRef(null);
  const speaker = useMemo(() => new Speaker(), []);
  const listener = useRef(null);
  const press = useRef({ at: 0, pointer: false, skipClick: false });
  const messageId = useId();
  const hintId = useId();

  const setPhase = (p) => { phaseRef.current = p; setPhaseState(p); };
  const setDraft = (v) => {
    const next = typeof v === 'function' ? v(draftRef.current) : v;
    draftRef.current = next;
    setDraftState(next);
    saveDraft(id, next);
  };
  const update = (k, fn) => setTurns((ts) => ts.map((t) => (t.key === k ? fn(t) : t)));
  const onScroll = useStickyScroll(logRef, turns);

  speaker.muted = muted;

  // The recording: started (or resumed) while this screen shows an
  // active session, paused when the student leaves it.
  useEffect(() => {
    if (!recorder) return undefined;
    const off = recorder.subscribe(setRecState);
    recorder.start().then(() => recorder.resume());
    return () => { off(); recorder.pause(); };
  }, [id]);

  // A new session's opening question is spoken too (the Start session
  // press lets the page speak); once per session.
  useEffect(() => {
    const t = session.transcript || [];
    if (!canSpeak || info.openingSpoken || t.length !== 1 || t[0].role !== 'assistant') return;
    store(id, { openingSpoken: true });
    speaker.begin();
    speaker.push(t[0].content);
    speaker.finish();
  }, [id]);

  // Closing or reloading the tab would lose the recording (it lives in
  // this page until End sends it): the browser asks first.
  const unsent = recState === 'recording' || ((phase === 'ending' || phase === 'endfailed') && end && end.size > 0);
  useEffect(() => {
    if (!unsent) return undefined;
    const warn = (e) => { e.preventDefault(); e.returnValue = ''; };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [unsent]);

  // Leaving the screen stops listening, speaking and any reply in flight.
  useEffect(() => () => {
    if (streamCtrl.current) streamCtrl.current.abort();
    if (listener.current) listener.current.abort();
    if (speechAvailable()) window.speechSynthesis.cancel();
    if (agent.current) { agent.current.end(); agent.current = null; }
    if (spoken.current) spoken.current.abort();
  }, []);

  // ElevenLabs agent mode: connect once the screen shows the session. The
  // agent's words and the student's, as the platform heard them, join the
  // same conversation log; the server stores them through its custom-LLM
  // endpoint. Failing to connect falls back to the browser's voice (where
  // it can listen) and typing, said in words.
  const agentMsgs = useRef(0);
  const left = useRef(false);
  useEffect(() => () => { left.current = true; }, []);
  const connectVoice = () => {
    if (left.current || agent.current || phaseRef.current !== 'active') return;
    setAgentState('connecting');
    const fallBack = (why) => {
      if (left.current || phaseRef.current === 'ended') return;
      agent.current = null;
      setAgentState('failed');
      setFellBack(true);
      const alt = recognitionClass() ? 'press Speak to use this browser’s own voice, or type below' : 'type your messages below';
      setVoiceNote(`The voice conversation is not available: ${why}. The session goes on — ${alt}.`);
    };
    import('./elevenlabs.js').then(({ connectAgent, connectFailure }) => connectAgent(voice, {
      message: ({ role, text }) => {
        if (left.current) return;
        const n = agentMsgs.current++;
        setTurns((ts) => {
          // The agent's first words are the session's opening question,
          // already on screen from the server's transcript.
          const last = ts[ts.length - 1];
          if (n === 0 && role === 'assistant' && last && last.role === 'assistant' && last.content.trim() === text.trim()) return ts;
          return [...ts, { key: `v${n}`, role, content: text }];
        });
      },
      mode: (m) => { if (!left.current && agent.current && (m === 'speaking' || m === 'listening')) setAgentState(m); },
      disconnect: ({ reason, message }) => {
        if (left.current || reason === 'user' || !agent.current) return;
        // The platform closed the conversation (its own time limit, or the
        // tutor ended the call): the session's end follows from the server.
        agent.current = null;
        setAgentState('closed');
        if (reason === 'agent') {
          serverEnded().then((over) => { if (!over) fallBack('the voice conversation was closed'); });
        } else fallBack(message ? `the connection was lost (${message.replace(/\.$/, '')})` : 'the connection was lost');
      },
      error: () => { /* a disconnect follows when it matters */ },
    }).then((a) => {
      if (left.current || phaseRef.current !== 'active') { a.end(); return; }
      agent.current = a;
      if (speaker.muted) a.setMuted(true);
      setAgentState('listening');
    }, (e) => fallBack(connectFailure(e))), () => fallBack('the voice part of the app could not be loaded'));
  };
  // The browser lets a page play sound (and the SDK start its audio) only
  // after a press on it: coming from Start session there was one; after a
  // reload the student presses Start talking first.
  useEffect(() => {
    if (!agentMode) return;
    const ua = navigator.userActivation;
    if (ua && !ua.hasBeenActive) setAgentState('idle');
    else connectVoice();
  }, [id]);

  // Pipeline mode: the server speaks each finished reply with the
  // session's ElevenLabs voice (the browser only plays it), and a new
  // session's opening question, once.
  const spoken = useRef(null);
  useEffect(() => {
    const t = session.transcript || [];
    if (!pipelineMode || info.openingSpoken || t.length !== 1 || t[0].role !== 'assistant') return;
    store(id, { openingSpoken: true });
    speakLatest();
  }, [id]);
  const speakLatest = () => {
    if (!pipelineMode || speaker.muted) return;
    if (spoken.current) spoken.current.abort();
    const ctrl = new AbortController();
    spoken.current = ctrl;
    import('./elevenlabs.js').then(({ speakReply }) => speakReply(id, { signal: ctrl.signal }))
      .catch((e) => { if (!ctrl.signal.aborted && e.name !== 'AbortError') setVoiceNote(`The reply could not be spoken: ${(e.detail || e.message || 'the voice service failed').replace(/\.$/, '')}. It is on screen.`); });
  };

  // The server's remaining_seconds corrects the clock when it is off by
  // more than a second (a computer whose clock was changed meanwhile).
  const resync = (remaining) => {
    if (typeof remaining !== 'number') return;
    const est = (Date.parse(session.expires_at) - (Date.now() + skew.current)) / 1000;
    if (est < remaining - 0.5 || est > remaining + 1.5) {
      skew.current = Date.parse(session.expires_at) - Date.now() - (remaining + 0.5) * 1000;
      store(id, { skew: skew.current });
    }
  };

  // finish ends the session: stops listening (and, unless the time ran
  // out, the tutor's voice), stops the recorder and sends the recording
  // with End. The conversation stays on screen whatever happens.
  const ending = useRef(false);
  const finish = async (reason, withRecording = true) => {
    if (ending.current || phaseRef.current === 'ended') return;
    ending.current = true;
    if (reason) setEndReason(reason);
    setPhase('ending');
    setError(null);
    if (listener.current) listener.current.abort();
    setHeard('');
    if (reason === 'manual') speaker.stop();
    // The agent conversation ends first: nothing more is said or heard.
    if (agent.current) {
      const a = agent.current;
      agent.current = null;
      await a.end();
      setAgentState('closed');
    }
    if (spoken.current) spoken.current.abort();
    let rec = null;
    if (recorder && withRecording) rec = await recorder.stop();
    else if (recorder) await recorder.stop();
    const size = rec ? rec.size : 0;
    setEnd({ state: 'sending', size, progress: size ? 0 : null });
    try {
      let res;
      if (rec && size) {
        const file = new File([rec], 'session.webm', { type: rec.type || 'audio/webm' });
        res = await upload(`/api/sessions/${id}/end`, file, (p) => setEnd({ state: 'sending', size, progress: p }), { field: 'audio' });
      } else {
        res = await post(`/api/sessions/${id}/end`);
      }
      setEnd({ state: 'done', size, duration: res && res.duration_seconds });
      setPhase('ended');
      forgetRecorder(id);
      forget(id);
    } catch (e) {
      setEnd({ state: 'failed', size, error: e });
      setPhase('endfailed');
    } finally {
      ending.current = false;
    }
  };

  // The clock reached zero: the reply in flight (if any) finishes first.
  const expire = () => {
    if (phaseRef.current !== 'active') return;
    setPhase('timeup');
    setEndReason('time');
    if (listener.current) listener.current.abort();
  };
  useEffect(() => {
    if (phase === 'timeup' && !busy) finish(endReason || 'time');
  }, [phase, busy]);

  // End pressed while a reply streams: the reply finishes (and is stored)
  // first, as when the time runs out; then the session ends.
  const requestEnd = () => {
    if (busyRef.current && phaseRef.current === 'active') {
      setEndReason('manual');
      setPhase('timeup');
      if (listener.current) listener.current.abort();
      return;
    }
    finish('manual');
  };

  // serverEnded handles a refusal that may mean the session is over on
  // the server (409): if it is, the session ends here too, gracefully.
  const serverEnded = async () => {
    try {
      const s = await get(`/api/sessions/${id}`);
      if (s.status === 'ended' || Date.parse(s.expires_at) <= Date.now() + skew.current) {
        setEndReason(Date.parse(s.expires_at) <= Date.now() + skew.current ? 'time' : 'server');
        setPhase('timeup');
        return true;
      }
    } catch { /* the refusal itself is shown */ }
    return false;
  };

  const send = (spoken) => {
    const text = (spoken === undefined ? draftRef.current : spoken).trim();
    if (!text || busyRef.current || phaseRef.current !== 'active') return;
    if (text.length > MAX_MESSAGE) {
      setError(`Your message is ${text.length} characters long; the tutor reads at most ${MAX_MESSAGE}. Please shorten it.`);
      return;
    }
    const cid = pending.current && pending.current.text === text ? pending.current.id : newId();
    pending.current = { text, id: cid };
    if (spoken === undefined) setDraft('');
    setError(null);
    busyRef.current = true;
    setBusy(true);
    deliver(text, cid, 0);
  };

  // deliver streams one message's reply into the log. A short refusal to
  // wait (429 for the pace of turns, 503 while the tutor is at capacity,
  // Retry-After of a few seconds) is waited out and the message sent
  // again by itself, twice at most; anything else puts the message back
  // in the box with the reason. busy stays set throughout.
  const retryTimer = useRef(null);
  useEffect(() => () => clearTimeout(retryTimer.current), []);
  const deliver = async (text, cid, attempt) => {
    const uk = `u-${cid}`, rk = `a-${cid}`;
    const release = () => { busyRef.current = false; setBusy(false); };
    const giveBack = () => {
      setTurns((ts) => ts.filter((t) => t.key !== uk && t.key !== rk));
      // Nothing is lost: the message goes back in the box (unless the
      // student has typed something new meanwhile), ready to send again.
      setDraft((d) => (d.trim() ? d : text));
    };
    setWaitNote('');
    if (phaseRef.current !== 'active') { giveBack(); release(); return; }
    setTurns((ts) => [...ts.filter((t) => t.key !== uk && t.key !== rk),
      { key: uk, role: 'user', content: text },
      { key: rk, role: 'assistant', content: '', streaming: true }]);
    speaker.begin();
    let done = null;
    let failure = null;
    const ctrl = new AbortController();
    streamCtrl.current = ctrl;
    try {
      await stream(`/api/sessions/${id}/message/stream`, { message: text, client_msg_id: cid }, {
        delta: (d) => {
          if (!d || typeof d.text !== 'string') return;
          update(rk, (t) => ({ ...t, content: t.content + d.text }));
          speaker.push(d.text);
        },
        sources: (d) => update(rk, (t) => ({ ...t, sources: (d && d.sources) || [] })),
        done: (d) => {
          done = d;
          update(rk, (t) => ({ ...t, content: d.response || t.content, moderated: !!d.moderated, streaming: false }));
          speaker.finish();
          resync(d.remaining_seconds);
          speakLatest();
        },
        error: (d) => { failure = (d && d.detail) || 'the tutor could not answer'; },
      }, { signal: ctrl.signal });
      if (!done) {
        const detail = failure ? failure.replace(/^./, (c) => c.toUpperCase()).replace(/([^.])$/, '$1.') : 'The reply was cut off before it finished.';
        const e = new Error(detail);
        e.detail = detail;
        e.streamed = true;
        throw e;
      }
      pending.current = null;
      release();
    } catch (e) {
      if (streamCtrl.current === ctrl) streamCtrl.current = null;
      if (e && e.name === 'AbortError') return;
      speaker.stop();
      const detail = (e.detail || e.message || '').replace(/([^.])$/, '$1.').replace(/^./, (c) => c.toUpperCase());
      if ((e.status === 429 || e.status === 503) && e.retryAfter && e.retryAfter <= 10 && attempt < 2) {
        update(rk, (t) => ({ ...t, content: '' }));
        setWaitNote(`${detail} Sending it again in ${e.retryAfter} second${e.retryAfter === 1 ? '' : 's'}…`);
        retryTimer.current = setTimeout(() => deliver(text, cid, attempt + 1), e.retryAfter * 1000);
        return;
      }
      giveBack();
      const over = (e.status === 409 || e.streamed) && await serverEnded();
      if (!over) {
        const again = 'Your message was not sent; it is back in the message box — press Send to try again.';
        const wait = e.status === 429 && e.retryAfter ? ` Please wait ${e.retryAfter} second${e.retryAfter === 1 ? '' : 's'}.` : '';
        setError({ detail: `${detail}${wait} ${again}`, fields: e.fields });
      }
      release();
    } finally {
      if (streamCtrl.current === ctrl) streamCtrl.current = null;
    }
  };
  const sendRef = useRef(send);
  sendRef.current = send;

  // Voice in: push-to-talk.
  if (canListen && !listener.current) {
    listener.current = new Listener({
      onState: setListening,
      onSpeech: () => speaker.stop(), // barge-in
      onInterim: (t) => setHeard(t),
      onError: (msg) => setVoiceNote(msg),
      onFinal: (words, tentative) => {
        setHeard('');
        const said = words || tentative;
        if (!said) { setVoiceNote((n) => n || 'I did not hear anything. Press Speak and try again, or type your message.'); return; }
        if (words && !busyRef.current && phaseRef.current === 'active') {
          setVoiceNote('');
          sendRef.current(words);
          return;
        }
        // Not sent (the tutor is still answering, or only tentative words
        // were heard): the words wait in the box.
        setDraft((d) => (d.trim() ? `${d.trim()} ${said}` : said));
        setVoiceNote(busyRef.current ? 'Your words are in the message box: press Send when the tutor has finished.' : 'Check your words in the message box, then press Send.');
      },
    });
  }
  const startListening = () => {
    if (phaseRef.current !== 'active' || !listener.current) return;
    speaker.stop(); // barge-in: pressing Speak silences the tutor
    setVoiceNote('');
    listener.current.start();
  };
  const stopListening = () => listener.current && listener.current.stop();
  // Press to start and press again to stop; or hold and release. The
  // keyboard's Enter and Space arrive as clicks.
  const speakDown = (e) => {
    if (e.button !== 0) return;
    press.current = { at: Date.now(), pointer: true, skipClick: true };
    if (listener.current && listener.current.listening) { press.current.pointer = false; stopListening(); } else startListening();
  };
  const speakUp = () => {
    if (press.current.pointer && Date.now() - press.current.at > 600) stopListening();
    press.current.pointer = false;
  };
  const speakClick = () => {
    if (press.current.skipClick) { press.current.skipClick = false; return; }
    if (listener.current && listener.current.listening) stopListening(); else startListening();
  };

  const toggleMute = () => {
    const m = !muted;
    setMutedState(m);
    speaker.setMuted(m);
    if (agent.current) agent.current.setMuted(m);
    if (m && spoken.current) spoken.current.abort();
    try { sessionStorage.setItem('socratic.muted', m ? '1' : '0'); } catch { /* for this screen only */ }
  };

  const toggleMic = () => {
    const m = !micMuted;
    setMicMutedState(m);
    if (agent.current) agent.current.setMicMuted(m);
  };

  const onKeyDown = (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  };
  // Some keyboards (and DevTools' key events) deliver Enter's character
  // separately from its keydown: it must not land in the emptied box.
  const onKeyPress = (e) => {
    if (e.key === 'Enter' && !e.shiftKey) e.preventDefault();
  };
  const onSubmit = (e) => { e.preventDefault(); send(); };

  const active = phase === 'active';
  const over = phase === 'ended';
  const agentLine = {
    idle: 'Press Start talking to connect the voice conversation (the browser asks for a press before it plays sound), or type below.',
    connecting: 'Connecting the voice conversation… allow the microphone if the browser asks.',
    listening: micMuted ? 'Voice connected. Your microphone is muted.' : 'Voice connected: the tutor is listening — just talk, or type below.',
    speaking: 'Voice connected: the tutor is speaking.',
    closed: 'The voice conversation has ended.',
  }[agentState] || '';
  const title = weekName(session);

  let banner = null;
  if (phase === 'timeup') {
    banner = html`<p class="notice warn-notice" role="status">${endReason === 'server' ? 'This session has ended on the server.' : endReason === 'manual' ? 'Ending the session.' : 'Time is up.'}
      ${busy ? ' The tutor is finishing its reply; then the session ends.' : ' Ending the session…'}</p>`;
  }
  else if (over || phase === 'ending' || phase === 'endfailed') {
    const why = endReason === 'time' ? 'Time is up — this session has ended.'
      : endReason === 'server' ? 'This session has ended on the server.'
        : 'You ended the session.';
    if (over) {
      banner = html`<div class="notice" role="status">
        <p>${why} ${end && end.duration != null ? `It lasted ${fmtDuration(end.duration)}.` : ''} ${end && end.size ? 'Your recording was sent.' : ''}</p>
        <p>The conversation stays below, and under <a href="#/sessions">Past sessions</a>.</p>
      </div>`;
    } else if (endReason === 'time') {
      banner = html`<p class="notice warn-notice" role="status">Time is up.</p>`;
    }
  }

  const recLine = {
    starting: 'Waiting for the microphone…',
    recording: 'Recording',
    denied: 'Not recording: the microphone was refused. The session continues by text and voice as usual.',
    unavailable: 'Not recording: this browser has no microphone or cannot record. The session continues.',
    failed: 'The recording stopped working. The session continues.',
  }[recState];

  return html`<${Page} title=${title}>
    <div class="session">
      <p class="session-meta muted">${session.course_name}${session.theme ? ` · starting from “${session.theme}”` : ''}</p>
      <div class="session-bar">
        ${over ? html`<p class="timer timer-over">Session ended</p>` : html`<${Timer} expiresAt=${session.expires_at} skew=${skew} onExpire=${expire} stopped=${false} />`}
        ${recLine && html`<p class=${`rec rec-${recState}`}>${recState === 'recording' && html`<span class="rec-dot" aria-hidden="true"></span>`}${recLine}</p>`}
        <div class="session-actions">
          ${(canSpeak || (agentMode && !fellBack) || pipelineMode) && html`<button type="button" class="mute" aria-pressed=${muted ? 'true' : 'false'} onClick=${toggleMute}>Mute tutor voice</button>`}
          ${agentMode && !fellBack && html`<button type="button" class="mute" aria-pressed=${micMuted ? 'true' : 'false'} onClick=${toggleMic} disabled=${!agent.current}>Mute microphone</button>`}
          <button type="button" class="danger" onClick=${requestEnd} disabled=${phase === 'ending' || over || phase === 'timeup'}>
            ${phase === 'ending' ? 'Ending…' : 'End session'}
          </button>
        </div>
      </div>
      ${banner}
      ${agentMode && !fellBack && active && html`<p class="agent-state" role="status">${agentLine}</p>`}
      ${agentMode && !fellBack && active && agentState === 'idle' && html`<p><button type="button" class="primary" onClick=${connectVoice}>Start talking</button></p>`}
      <${EndStatus} end=${end} onRetry=${() => finish('', true)} onWithout=${() => finish('', false)} />
      <div class="log" role="log" aria-live="polite" aria-label="Conversation" aria-busy=${busy ? 'true' : 'false'} ref=${logRef} onScroll=${onScroll} tabindex="0">
        <ol class="turns">${turns.map((t) => html`<${Turn} key=${t.key} turn=${t} />`)}</ol>
      </div>
      <form class="composer" onSubmit=${onSubmit} novalidate>
        <label for=${messageId}>Message</label>
        <textarea id=${messageId} ref=${inputRef} rows="2" maxlength=${MAX_MESSAGE} value=${draft}
          onInput=${(e) => setDraft(e.currentTarget.value)} onKeyDown=${onKeyDown} onKeyPress=${onKeyPress}
          disabled=${!active} aria-describedby=${hintId}
          placeholder=${active ? 'Type your answer or question' : ''}></textarea>
        <p id=${hintId} class="hint">${active ? `Enter sends, Shift+Enter starts a new line.${canListen ? ' Or press Speak and talk.' : ''}` : 'The session has ended; nothing more can be sent.'}</p>
        ${listening && html`<p class="listening-note" role="status">Listening… press Speak again (or let go) when you have finished.</p>`}
        ${heard && html`<p class="heard"><span class="muted">Hearing:</span> ${heard}</p>`}
        ${voiceNote && html`<p class="voice-note" role="status">${voiceNote}</p>`}
        ${waitNote && html`<p class="wait-note" role="status">${waitNote}</p>`}
        <${ErrorMsg} error=${error} />
        <div class="composer-actions">
          ${canListen && html`<button type="button" class=${`speak${listening ? ' listening' : ''}`} aria-pressed=${listening ? 'true' : 'false'}
            onPointerDown=${speakDown} onPointerUp=${speakUp} onClick=${speakClick} disabled=${!active}>
            <span class="mic" aria-hidden="true"></span>Speak
          </button>`}
          <button type="submit" class="primary" disabled=${!active || busy}>${busy ? 'Send (wait…)' : 'Send'}</button>
        </div>
      </form>
    </div>
  <//>`;
}

// Recording plays a session's recording, fetched with the sign-in token
// and handed to an <audio> element as an object URL.
export function Recording({ session }) {
  const state = useAsync(async (signal) => {
    if (!session.has_audio) return null;
    try {
      return await getBlob(`/api/sessions/${session.id}/audio`, { signal });
    } catch (e) {
      if (e.status === 404) return null;
      throw e;
    }
  }, [session.id, session.has_audio]);
  const url = useMemo(() => (state.data ? URL.createObjectURL(state.data) : null), [state.data]);
  useEffect(() => () => { if (url) URL.revokeObjectURL(url); }, [url]);
  if (state.loading) return html`<${Loading} label="Loading the recording…" />`;
  if (state.error) return html`<${ErrorMsg} error=${state.error} />`;
  if (!url) return html`<p class="muted">No recording was kept for this session.</p>`;
  return html`<audio class="recording" controls preload="metadata" src=${url} aria-label="Recording of this session"></audio>`;
}

// PastSession is a session that has ended: its transcript and recording.
function PastSession({ session }) {
  const turns = (session.transcript || []).map(toTurn);
  return html`<${Page} title=${weekName(session)}>
    <p class="muted">${session.course_name} · ${fmtDate(session.started_at)}${session.duration_seconds != null ? ` · ${fmtDuration(session.duration_seconds)}` : ''}</p>
    <section class="card" aria-labelledby="rec-h">
      <h2 id="rec-h">Recording</h2>
      <${Recording} session=${session} />
    </section>
    <h2>Transcript</h2>
    ${turns.length === 0
      ? html`<p class="empty">Nothing was said in this session.</p>`
      : html`<div class="log transcript" role="log" aria-label="Transcript" tabindex="0"><ol class="turns">${turns.map((t) => html`<${Turn} key=${t.key} turn=${t} />`)}</ol></div>`}
    <p><a href="#/sessions">Back to past sessions</a></p>
  <//>`;
}
