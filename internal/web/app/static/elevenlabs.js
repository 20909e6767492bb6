// ElevenLabs voice, for a session whose start answered voice.provider
// "elevenlabs". Loaded only then (session.js imports it on demand), and it
// in turn loads ElevenLabs' browser SDK (elevenlabs-client.js, vendored by
// scripts/update-elevenlabs-client, some 600 kB) only when it connects.
//
// Agent mode: the SDK holds the conversation with ElevenLabs' agent over
// the signed WebSocket URL from start; the agent's language model is our
// server (the custom-LLM endpoint), which knows the session by the
// session token passed here as custom_llm_extra_body, so every spoken turn
// is stored, moderated and timed like a typed one.
//
// Pipeline mode: the server speaks the tutor's stored reply
// (POST /api/sessions/{id}/speech, audio/mpeg); speakReply plays it.
import { getToken, problemFrom } from './api.js';

// The SDK's audio worklets are files beside this one: handing their URLs
// to the SDK keeps it from loading them from blob: or data: URLs, which the
// page's policy (script-src 'self') refuses.
const here = (name) => new URL(`./${name}`, import.meta.url).href;

// connectAgent starts the agent conversation. on: {message({role, text}),
// mode('speaking'|'listening'), disconnect({reason, message}), error(text)}.
// It resolves to {end(), setMuted(bool), setMicMuted(bool)} once the
// agent has accepted the conversation, and rejects (with a sentence)
// when it cannot connect.
export async function connectAgent(voice, on) {
  if (!voice || !voice.signed_url) throw new Error('the server gave no address for the voice conversation');
  const { Conversation } = await import('./elevenlabs-client.js');
  const options = {
    signedUrl: voice.signed_url,
    connectionType: 'websocket',
    customLlmExtraBody: { session_token: voice.session_token },
    dynamicVariables: voice.dynamic_variables || {},
    workletPaths: {
      rawAudioProcessor: here('elevenlabs-raw-audio-processor.js'),
      audioConcatProcessor: here('elevenlabs-audio-concat-processor.js'),
    },
    useWakeLock: false,
    onMessage: (m) => {
      if (!m || typeof m.message !== 'string' || !m.message.trim()) return;
      on.message({ role: m.role === 'agent' || m.source === 'ai' ? 'assistant' : 'user', text: m.message });
    },
    onModeChange: (m) => on.mode && on.mode(m && m.mode),
    onDisconnect: (d) => on.disconnect && on.disconnect({ reason: d && d.reason, message: (d && (d.message || d.closeReason)) || '' }),
    onError: (message) => on.error && on.error(typeof message === 'string' ? message : 'the voice service reported an error'),
  };
  if (voice.first_message) options.overrides = { agent: { firstMessage: voice.first_message } };
  const conv = await Conversation.startSession(options);
  return {
    end: async () => { try { await conv.endSession(); } catch { /* already closed */ } },
    setMuted: (m) => { try { conv.setVolume({ volume: m ? 0 : 1 }); } catch { /* not connected */ } },
    setMicMuted: (m) => { try { conv.setMicMuted(m); } catch { /* not connected */ } },
  };
}

// connectFailure says why the voice conversation could not start, in
// words.
export function connectFailure(e) {
  const name = e && e.name;
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'the browser is not allowed to use your microphone';
  if (name === 'NotFoundError') return 'no microphone was found';
  const msg = (e && (e.message || String(e))) || '';
  if (/closed|socket|connect/i.test(msg)) return 'the voice service could not be reached';
  return msg ? msg.replace(/\.$/, '') : 'the voice service could not be reached';
}

// speakReply plays the tutor's latest stored reply (pipeline mode),
// spoken by the server with the session's voice. It resolves when playing
// starts (or fails, with an ApiError-like error carrying words). Only the
// tutor's own stored words can be spoken: the request names no text.
export async function speakReply(sessionId, { signal } = {}) {
  const h = { Accept: 'audio/mpeg', 'Content-Type': 'application/json' };
  const tok = getToken();
  if (tok) h.Authorization = `Bearer ${tok}`;
  const res = await fetch(`/api/sessions/${encodeURIComponent(sessionId)}/speech`, { method: 'POST', headers: h, body: '{}', signal });
  if (!res.ok) throw await problemFrom(res);
  const url = URL.createObjectURL(await res.blob());
  const audio = new Audio(url);
  const free = () => URL.revokeObjectURL(url);
  audio.addEventListener('ended', free, { once: true });
  audio.addEventListener('error', free, { once: true });
  if (signal) signal.addEventListener('abort', () => { audio.pause(); free(); }, { once: true });
  await audio.play();
  return audio;
}
