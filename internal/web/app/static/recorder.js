// The session's recording: the student's microphone through MediaRecorder,
// kept per session for the life of the page (so leaving the session screen
// and coming back does not lose it), handed over as one webm Blob at End.

const recorders = new Map(); // session id → Recorder

// recorderFor is the one recorder of a session in this page.
export function recorderFor(sessionId) {
  const key = String(sessionId);
  if (!recorders.has(key)) recorders.set(key, new Recorder());
  return recorders.get(key);
}

// forgetRecorder drops a session's recorder once its recording is sent.
export function forgetRecorder(sessionId) {
  const r = recorders.get(String(sessionId));
  if (r) r.release();
  recorders.delete(String(sessionId));
}

// Recorder states: idle (not asked), starting (waiting for the
// microphone), recording, denied (the person or browser refused),
// unavailable (no microphone or no MediaRecorder), failed, stopped.
export class Recorder {
  constructor() {
    this.state = 'idle';
    this.chunks = [];
    this.type = 'audio/webm';
    this.mr = null;
    this.stream = null;
    this.blob = null; // the finished recording, kept until it is sent
    this.listeners = new Set();
  }

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  set(state) {
    this.state = state;
    this.listeners.forEach((fn) => fn(state));
  }

  // start asks for the microphone and records; it never throws — the
  // state says what happened.
  async start() {
    if (this.state !== 'idle') return;
    const md = navigator.mediaDevices;
    if (!md || !md.getUserMedia || typeof window.MediaRecorder === 'undefined') {
      this.set('unavailable');
      return;
    }
    this.set('starting');
    try {
      this.stream = await md.getUserMedia({ audio: true });
    } catch (e) {
      this.set(e && (e.name === 'NotAllowedError' || e.name === 'SecurityError') ? 'denied' : 'unavailable');
      return;
    }
    if (this.state !== 'starting') { this.release(); return; } // stopped meanwhile
    const want = ['audio/webm;codecs=opus', 'audio/webm'].find((t) => MediaRecorder.isTypeSupported && MediaRecorder.isTypeSupported(t));
    try {
      this.mr = want ? new MediaRecorder(this.stream, { mimeType: want }) : new MediaRecorder(this.stream);
    } catch {
      this.release();
      this.set('failed');
      return;
    }
    this.type = (this.mr.mimeType || 'audio/webm').split(';')[0] || 'audio/webm';
    this.mr.ondataavailable = (e) => { if (e.data && e.data.size > 0) this.chunks.push(e.data); };
    this.mr.onerror = () => this.set('failed');
    this.mr.start(1000); // a chunk a second: a crash loses at most a second
    this.set('recording');
  }

  // stop ends the recording and resolves to its Blob (null when nothing
  // was recorded). Calling it again resolves to the same Blob.
  stop() {
    if (this.blob) return Promise.resolve(this.blob);
    const finish = () => {
      this.release();
      this.blob = this.chunks.length ? new Blob(this.chunks, { type: this.type }) : null;
      if (this.state === 'recording' || this.state === 'starting') this.set('stopped');
      return this.blob;
    };
    if (!this.mr || this.mr.state === 'inactive') {
      if (this.state === 'starting') this.set('stopped');
      return Promise.resolve(finish());
    }
    return new Promise((resolve) => {
      const mr = this.mr;
      let settled = false;
      const done = () => { if (!settled) { settled = true; resolve(finish()); } };
      mr.addEventListener('stop', done, { once: true });
      try { mr.stop(); } catch { done(); }
      // A recorder that never says it stopped does not hold End up.
      setTimeout(done, 3000);
    });
  }

  // pause stops taking sound while the session screen is not shown;
  // resume takes it up again.
  pause() {
    if (this.mr && this.mr.state === 'recording') { try { this.mr.pause(); } catch { /* not pausable */ } }
  }

  resume() {
    if (this.mr && this.mr.state === 'paused') { try { this.mr.resume(); } catch { /* not paused */ } }
  }

  // release lets go of the microphone.
  release() {
    if (this.stream) this.stream.getTracks().forEach((t) => t.stop());
    this.stream = null;
  }
}
