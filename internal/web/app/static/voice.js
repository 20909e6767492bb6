// Browser voice (the keyless default): the Web Speech API's recognition for
// push-to-talk, and speechSynthesis to speak the tutor's reply sentence by
// sentence as the sentences complete while the reply streams in.
//
// Both APIs are looked up on window at the moment they are used, so a page
// (or a test) that installs them late, or replaces them, is honoured.

// Words that end with a full stop without ending a sentence: legal
// citation forms first ("Goldberg v. Kelly", "U.S.", "p. 24"), then the
// usual titles and Latin. Compared lower-case, without the final dot.
const ABBREVIATIONS = new Set([
  'v', 'vs', 'u.s', 'u.s.c', 's.ct', 'l.ed', 'f', 'f.2d', 'f.3d', 'f.4th', 'f.supp', 'supp', 'p', 'pp', 'para', 'paras',
  'no', 'nos', 'art', 'arts', 'sec', 'secs', 'ch', 'cl', 'ct', 'cir', 'app', 'rev', 'stat', 'ann', 'amend', 'const',
  'id', 'ibid', 'cf', 'e.g', 'i.e', 'etc', 'et al', 'al', 'viz', 'n', 'nn', 'fn', 'vol', 'ed', 'eds', 'fig', 'ex',
  'mr', 'mrs', 'ms', 'dr', 'prof', 'hon', 'st', 'jr', 'sr', 'j', 'jj', 'c.j', 'inc', 'co', 'corp', 'ltd', 'llc', 'dept',
  'gov', 'govt', 'assn', 'bros', 'comm', 'comm\'n', 'int\'l', 'nat\'l', 'dist', 'div', 'mt', 'ft', 'approx',
]);

// A run of sentence-ending marks, any closing quotes or brackets, then
// white space or the end of the text.
const END = /[.?!…]+["'”’)\]]*(?=\s|$)/g;

// isAbbreviation: the word before a full stop at i (the index of the
// stop) is one that does not end a sentence.
function isAbbreviation(text, i) {
  let j = i;
  while (j > 0 && !/\s/.test(text[j - 1])) j--;
  const word = text.slice(j, i).replace(/^["'“‘(\[]+/, '').toLowerCase();
  if (!word) return false;
  if (ABBREVIATIONS.has(word)) return true;
  if (/^[a-z]$/i.test(word)) return true; // an initial: "Frankfurter, J."
  if (/^([a-z]\.)+[a-z]$/i.test(word)) return true; // "U.S", "e.g", "N.Y"
  return false;
}

// splitSentences takes the complete sentences off the front of text.
// A sentence is complete when its closing mark is followed by white space
// (or, with final, by the end of the text): "Page 24." at the very end of
// what has arrived may still become "Page 24.5". It returns the sentences
// (trimmed) and the rest, which waits for more text.
export function splitSentences(text, final = false) {
  const sentences = [];
  let from = 0;
  END.lastIndex = 0;
  let m;
  while ((m = END.exec(text)) !== null) {
    const stop = m.index + m[0].length;
    const atEnd = stop >= text.length;
    if (atEnd && !final) break;
    const marks = m[0].replace(/["'”’)\]]+$/, '');
    if (marks === '.' && isAbbreviation(text, m.index)) continue;
    // A lower-case letter or a digit next: not a sentence's end
    // ("see p. 24", "the U.S. government").
    const next = text.slice(stop).match(/^\s+(\S)/);
    if (next && /[a-z0-9]/.test(next[1])) continue;
    const s = text.slice(from, stop).trim();
    if (s) sentences.push(s);
    from = stop;
  }
  let rest = text.slice(from);
  if (final) {
    if (rest.trim()) sentences.push(rest.trim());
    rest = '';
  }
  return { sentences, rest: rest.replace(/^\s+/, '') };
}

// speechAvailable: the browser can speak.
export function speechAvailable() {
  return typeof window.speechSynthesis !== 'undefined' && typeof window.SpeechSynthesisUtterance !== 'undefined';
}

// Speaker speaks one streamed reply at a time, sentence by sentence:
// push() each delta as it arrives, finish() when the reply is done.
// stop() is barge-in: it silences what is being said and the rest of this
// reply. Muted, it says nothing at all.
export class Speaker {
  constructor() {
    this.buf = '';
    this.muted = false;
    this.silenced = false; // the rest of the current reply
    this.lang = document.documentElement.lang || 'en';
  }

  // begin starts a new reply.
  begin() {
    this.buf = '';
    this.silenced = false;
  }

  push(delta) {
    this.buf += delta;
    const { sentences, rest } = splitSentences(this.buf, false);
    this.buf = rest;
    sentences.forEach((s) => this.say(s));
  }

  finish() {
    const { sentences } = splitSentences(this.buf, true);
    this.buf = '';
    sentences.forEach((s) => this.say(s));
  }

  say(sentence) {
    if (this.muted || this.silenced || !speechAvailable()) return;
    const u = new window.SpeechSynthesisUtterance(sentence);
    u.lang = this.lang;
    try { window.speechSynthesis.speak(u); } catch { /* a browser without voices: the text is on screen */ }
  }

  // stop silences the tutor now and for the rest of this reply.
  stop() {
    this.silenced = true;
    this.buf = '';
    if (speechAvailable()) window.speechSynthesis.cancel();
  }

  setMuted(m) {
    this.muted = m;
    if (m && speechAvailable()) window.speechSynthesis.cancel();
  }
}

// recognitionClass is the browser's speech recognition, or null.
export function recognitionClass() {
  return window.SpeechRecognition || window.webkitSpeechRecognition || null;
}

// Why recognition stopped, in words.
const RECOGNITION_ERRORS = {
  'not-allowed': 'The browser is not allowed to use your microphone, so it cannot listen. You can type instead.',
  'service-not-allowed': 'Speech recognition is turned off in this browser. You can type instead.',
  'audio-capture': 'No microphone was found, so the browser cannot listen. You can type instead.',
  network: 'Speech recognition needs a network connection it could not reach. You can type instead.',
  'no-speech': 'I did not hear anything. Press Speak and try again, or type your message.',
  'language-not-supported': 'Speech recognition does not support this language here. You can type instead.',
};

// Listener is push-to-talk: start() listens, stop() ends and hands the
// words heard to onFinal. While listening, onInterim gets the words so far
// (final and tentative) to show. onSpeech fires when the person starts
// talking (barge-in). onError gets a sentence; onState(listening).
export class Listener {
  constructor({ onInterim, onFinal, onSpeech, onError, onState }) {
    this.on = { onInterim, onFinal, onSpeech, onError, onState };
    this.rec = null;
    this.finalText = '';
    this.interim = '';
  }

  get listening() { return this.rec !== null; }

  start() {
    const Rec = recognitionClass();
    if (!Rec || this.rec) return;
    const rec = new Rec();
    rec.lang = document.documentElement.lang || 'en-US';
    rec.continuous = true;
    rec.interimResults = true;
    this.finalText = '';
    this.interim = '';
    rec.onspeechstart = () => this.on.onSpeech && this.on.onSpeech();
    rec.onresult = (e) => {
      let interim = '';
      for (let i = e.resultIndex; i < e.results.length; i++) {
        const r = e.results[i];
        const t = r[0] ? r[0].transcript : '';
        if (r.isFinal) this.finalText = join(this.finalText, t);
        else interim = join(interim, t);
      }
      this.interim = interim;
      this.on.onInterim && this.on.onInterim(join(this.finalText, interim));
    };
    rec.onerror = (e) => {
      if (e.error === 'aborted') return;
      this.on.onError && this.on.onError(RECOGNITION_ERRORS[e.error] || 'Speech recognition stopped. You can type instead.');
    };
    rec.onend = () => {
      if (this.rec !== rec) return;
      this.rec = null;
      this.on.onState && this.on.onState(false);
      const heard = this.finalText.trim();
      const tentative = this.interim.trim();
      this.finalText = '';
      this.interim = '';
      this.on.onFinal && this.on.onFinal(heard, tentative);
    };
    this.rec = rec;
    try {
      rec.start();
    } catch {
      this.rec = null;
      this.on.onError && this.on.onError('Speech recognition could not start. You can type instead.');
      return;
    }
    this.on.onState && this.on.onState(true);
  }

  // stop ends listening; what was heard arrives through onFinal.
  stop() {
    if (this.rec) {
      try { this.rec.stop(); } catch { /* already stopping */ }
    }
  }

  // abort ends listening and drops what was heard.
  abort() {
    const rec = this.rec;
    this.rec = null;
    if (rec) {
      try { rec.abort(); } catch { /* gone */ }
      this.on.onState && this.on.onState(false);
    }
  }
}

function join(a, b) {
  a = a.trim(); b = b.trim();
  return a && b ? `${a} ${b}` : a || b;
}
