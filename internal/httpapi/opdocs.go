package httpapi

// opDoc is what the API reference says of one operation: its tag (the
// section it is listed under), a one-line summary, and who may call it and
// what it refuses. route panics on an operation without one, so a new
// route cannot reach /docs undocumented.
type opDoc struct{ tag, summary, desc string }

// The reference's sections, in the order /docs lists them.
var apiTags = []struct{ name, desc string }{
	{"Service", "The service itself: its name and version, health, this description, the reference page and metrics. No sign-in needed."},
	{"Auth", "Accounts and tokens. Sign in at `POST /api/auth/login` and send the token as `Authorization: Bearer <access_token>` on every other call. A missing, invalid or revoked token, or a deactivated account, is 401 with `WWW-Authenticate: Bearer`."},
	{"Admin", "User accounts, the audit log and usage figures. Administrators only: anyone else is 403."},
	{"Courses", "Courses, their instructors and their enrolled students. Students see the courses they are enrolled in, professors those they teach, administrators all; a course the caller cannot see is 404."},
	{"Weeks", "A course's numbered weeks: their readings, discussion themes and search over their passages."},
	{"Documents", "Readings (PDFs) uploaded to a week: processed in the background into passages the tutor and search draw on."},
	{"Sessions", "Tutoring sessions: a student talks with the tutor about a week's readings, within a weekly quota and a time limit; instructors review them. Another student's session is 404, never 403."},
	{"Voice", "The voice layer: ElevenLabs (agent or pipeline mode) or the browser's own speech (`VOICE_PROVIDER`). A session's `voice` block, from its start, says which mode the client uses and carries the credentials."},
}

// signedInNote is the refusal every signed-in operation shares.
const signedInNote = " Without a valid token: 401."

var opDocs = map[string]opDoc{
	// Voice
	"list-voices": {"Voice", "The voices a session may use", "Any signed-in user. The ElevenLabs account's voices (listed at most every 10 minutes); none in browser mode, where the browser's own voices are used. ElevenLabs failing with nothing listed before: 503 with `Retry-After`." + signedInNote},

	// Service
	"get-root":         {"Service", "Service name and version", "Anyone. Browsers (`Accept: text/html` preferred over JSON) get the web client's page; every other client, including one that sends no `Accept` or `*/*`, gets the JSON body."},
	"get-health":       {"Service", "Health of each component", "Anyone. `status` is `degraded` when the database, the job queue, a configured language model or the embedding model fails; each component says which it is and which provider it uses. Never names a secret or a path."},
	"get-health-live":  {"Service", "Liveness", "Anyone. Answers 200 while the process runs."},
	"get-health-ready": {"Service", "Readiness", "Anyone. 200 when the database answers and is fully migrated; otherwise 503."},
	"get-openapi":      {"Service", "This OpenAPI description", "Anyone. The OpenAPI 3.1 description of every route, generated from the code that serves them."},
	"get-app-asset":    {"Service", "A file of the web client", "Anyone. Not described in /openapi.json (hidden): the web client's scripts and styles, named by their contents' hash."},
	"get-docs-asset":   {"Service", "A file of the reference page", "Anyone. Not described in /openapi.json (hidden): the page's script and style files, named by their contents' hash."},
	"get-docs":         {"Service", "API reference page", "Anyone. An HTML page that renders this description; every file it loads is served by this server, so it works without internet access."},
	"get-metrics":      {"Service", "Prometheus metrics", "Requests from the same machine (loopback, not relayed by a proxy), or with `Authorization: Bearer $METRICS_TOKEN`. Anyone else: 403."},

	// Auth
	"register":        {"Auth", "Register a student account", "Anyone, while `ALLOW_REGISTRATION` is on (otherwise 403 before any other check). The account is always a student; an email outside `ALLOWED_EMAIL_DOMAINS`, a weak password (under 10 characters, or equal to the username or email) or an unknown `join_code` is 422; a taken email or username is 409; too many attempts from one address is 429 with `Retry-After`."},
	"login":           {"Auth", "Sign in", "Anyone. Takes JSON or an OAuth2 password form; `username` may be the email. Wrong credentials and a deactivated account get the same 401; too many failures for the account or the address are 429 with `Retry-After`; 503 when the server is too busy checking passwords."},
	"get-me":          {"Auth", "The signed-in user", "Any signed-in user." + signedInNote},
	"change-password": {"Auth", "Change your password", "Any signed-in user. Every token issued before stops working. A wrong current password or a weak new one is 422; too many wrong current passwords is 429 with `Retry-After`." + signedInNote},
	"logout":          {"Auth", "Sign out everywhere", "Any signed-in user. This token and every earlier one of the user stop working." + signedInNote},
	"export-me":       {"Auth", "Export your own data", "Any signed-in user, for their own data only: account, enrolments, courses taught, and sessions with transcripts (recordings as URLs). Nothing of anyone else." + signedInNote},

	// Admin
	"list-users":  {"Admin", "List users", "Administrators. Filter by `role` and by `q` (part of a name, username or email). Anyone else: 403." + signedInNote},
	"create-user": {"Admin", "Create a user of any role", "Administrators; this is how professors and further admins are made. A taken email or username is 409; invalid fields 422. Anyone else: 403." + signedInNote},
	"update-user": {"Admin", "Change a user's role, name or active flag", "Administrators. Deactivation revokes the user's tokens at once. An admin cannot deactivate or demote themself (403). Unknown user: 404. Anyone else: 403." + signedInNote},
	"delete-user": {"Admin", "Erase a user", "Administrators. Erases the account, its enrolments, sessions, turns and recordings; the audit log keeps a tombstone without personal data. Deleting yourself or the last admin is 409; unknown user 404. Anyone else: 403." + signedInNote},
	"list-audit":  {"Admin", "Read the audit log", "Administrators. Filter by `action` and `actor_id`; newest first. Anyone else: 403." + signedInNote},
	"get-stats":   {"Admin", "Usage figures", "Administrators. Users by role, courses, documents by status, sessions, and the language model's token use. Anyone else: 403." + signedInNote},

	// Courses
	"list-courses":         {"Courses", "List your courses", "Any signed-in user: students get the courses they are enrolled in, professors those they teach, administrators all." + signedInNote},
	"create-course":        {"Courses", "Create a course", "Professors and administrators (students: 403). The creating professor becomes an instructor. A duplicate code is 409." + signedInNote},
	"join-course":          {"Courses", "Join a course with its join code", "Students (professors and admins: 403). An unknown code is 404; too many wrong codes is 429 with `Retry-After`." + signedInNote},
	"get-course":           {"Courses", "A course with its weeks", "Its instructors, its enrolled students and administrators; anyone else gets 404. The join code is shown to instructors and admins only." + signedInNote},
	"update-course":        {"Courses", "Change a course", "Its instructors and administrators; an enrolled student is 403, anyone else 404. A duplicate code is 409." + signedInNote},
	"delete-course":        {"Courses", "Delete a course", "Its instructors and administrators; an enrolled student is 403, anyone else 404. Weeks, documents, passages and files go with it; sessions and transcripts are kept." + signedInNote},
	"add-instructor":       {"Courses", "Add an instructor", "Its instructors and administrators; an enrolled student is 403, anyone else 404. The user must be a professor (otherwise 422)." + signedInNote},
	"regenerate-join-code": {"Courses", "Make a new join code", "Its instructors and administrators; an enrolled student is 403, anyone else 404. The old code stops working at once." + signedInNote},
	"list-students":        {"Courses", "List a course's students", "Its instructors and administrators; an enrolled student is 403, anyone else 404." + signedInNote},
	"enroll-students":      {"Courses", "Enrol students by email", "Its instructors and administrators; an enrolled student is 403, anyone else 404. Each address is reported as enrolled, not found, or not a student." + signedInNote},
	"remove-student":       {"Courses", "Remove a student from a course", "Its instructors and administrators; an enrolled student is 403, anyone else 404 (as is a user who is not enrolled). A session the student holds on the course takes no more messages." + signedInNote},

	// Weeks
	"create-week":     {"Weeks", "Add a week to a course", "The course's instructors and administrators; an enrolled student is 403, anyone else 404. A duplicate week number is 409." + signedInNote},
	"get-week":        {"Weeks", "A week with its documents", "The course's instructors, its enrolled students and administrators; anyone else gets 404." + signedInNote},
	"update-week":     {"Weeks", "Change a week's title or themes", "The course's instructors and administrators; an enrolled student is 403, anyone else 404. Themes must be short topics: an instruction, quotation, markup or link is 422." + signedInNote},
	"delete-week":     {"Weeks", "Delete a week", "The course's instructors and administrators; an enrolled student is 403, anyone else 404." + signedInNote},
	"search-week":     {"Weeks", "Search a week's readings", "The course's instructors, its enrolled students and administrators; anyone else gets 404. The same retrieval the tutor uses: BM25, fused with embeddings when a model is present. `k` is the number of passages (default 5, at most 20)." + signedInNote},
	"generate-themes": {"Weeks", "Generate a week's discussion themes", "The course's instructors and administrators; an enrolled student is 403, anyone else 404. Queued: the themes appear on the week when done. 503 when no job queue runs." + signedInNote},

	// Documents
	"upload-document":      {"Documents", "Upload a reading (PDF)", "The instructors of the week's course and administrators; an enrolled student is 403; an unknown week, or one of a course the caller neither teaches nor studies, is 404. Not a PDF (judged by its bytes) is 415; over `MAX_UPLOAD_SIZE` or `MAX_PDF_PAGES` 413; a missing `file` field 422. The same bytes uploaded twice to a week answer 200 with the existing document. Processing happens in the background and survives a restart." + signedInNote},
	"list-documents":       {"Documents", "List a week's documents", "The course's instructors, its enrolled students and administrators; an unknown or unseen week is 404." + signedInNote},
	"get-document":         {"Documents", "A document and its processing status", "The course's instructors, its enrolled students and administrators; anyone else gets 404. `error` says why processing failed, in words a professor understands." + signedInNote},
	"get-document-file":    {"Documents", "Download the PDF", "The course's instructors, its enrolled students and administrators; anyone else gets 404." + signedInNote},
	"list-document-chunks": {"Documents", "List a document's passages", "The course's instructors and administrators; an enrolled student is 403, anyone else 404." + signedInNote},
	"reprocess-document":   {"Documents", "Process a document again", "The course's instructors and administrators; an enrolled student is 403, anyone else 404. A document still queued or being processed is 409." + signedInNote},
	"delete-document":      {"Documents", "Delete a document", "The course's instructors and administrators; an enrolled student is 403, anyone else 404. Its file, passages and vectors go; search never returns them again." + signedInNote},

	// Sessions
	"start-session":       {"Sessions", "Start a tutoring session", "Students enrolled in the week's course (professors and admins may try any week of a course they teach or administer, without a quota); anyone else gets 404. The week quota used up is 429 with `Retry-After` until the week resets; the student's daily token budget spent is 429 too. A week with no processed reading is 409. Starting ends the student's previous active session. With ElevenLabs, the session's credentials are minted after these checks: ElevenLabs failing (5xx, timeout, refusal) is 503 with `Retry-After`, nothing is started and the quota is not spent; `\"mode\": \"text\"` starts without calling ElevenLabs." + signedInNote},
	"get-session-quota":   {"Sessions", "Your weekly session quota", "Any signed-in user." + signedInNote},
	"send-message":        {"Sessions", "Send a message and get the tutor's answer", "The session's student only (an instructor or admin is 403; anyone else 404). Ended or out of time: 409 (and the session is ended), as is a message while the previous one is being answered, or past the session's turn limit. Faster than one message per `SESSION_MIN_TURN_INTERVAL_SECONDS`, or over the daily token budget: 429 with `Retry-After`; a student removed from the course 403; too many model calls at once 503 with `Retry-After`. A repeated `client_msg_id` returns the stored answer." + signedInNote},
	"stream-message":      {"Sessions", "Send a message; the answer as server-sent events", "The same callers and refusals as the plain message route, answered before the stream opens. The stream sends `delta` events (in order), then `sources`, then `done`; or one `error`. The turn is stored, complete, before `done`." + signedInNote},
	"end-session":         {"Sessions", "End a session, optionally with its recording", "The session's student only (an instructor or admin is 403; anyone else 404). The recording (multipart field `audio`) must be WebM, Ogg, WAV, MP3 or M4A by its bytes (415 otherwise) and at most `MAX_AUDIO_SIZE` (413). A file under another field name, or more than 32 other fields or 64 KB of them, is 422 and changes nothing. The answer is the summary: the message, the turns without their sources, and the duration. Ending an ended session answers the same again." + signedInNote},
	"list-sessions":       {"Sessions", "List sessions", "Any signed-in user: students get their own sessions, professors their own and those of the courses they teach, administrators all; for professors and administrators each session names its `student`. `moderated=true` keeps those with a moderated turn." + signedInNote},
	"get-session":         {"Sessions", "A session with its transcript", "The session's student, the course's instructors and administrators; anyone else gets 404." + signedInNote},
	"get-session-audio":   {"Sessions", "Download a session's recording", "The session's student, the course's instructors and administrators; anyone else, or a session without a recording, gets 404." + signedInNote},
	"speak-turn":          {"Sessions", "Hear a tutor reply spoken", "The session's student only (an instructor or admin is 403; anyone else 404), while the session is active and within its clock (plus 30 seconds); otherwise 409. Speaks the tutor's stored reply — `turn_id`, or the latest — as `audio/mpeg`, streamed as ElevenLabs makes it; never any other text (the body has no text field; unknown fields are 422). A turn id that is not a tutor turn of this session: 404, or 422 for the student's own turn. A session may have its replies spoken three times per possible tutor turn (`SESSION_MAX_TURNS` + 1); past that, 429. Browser voice mode: 501 (the browser speaks). ElevenLabs failing: 503 with `Retry-After`." + signedInNote},
	"voice-llm-chat":      {"Voice", "The agent's custom LLM (OpenAI chat completions)", voiceLLMDoc},
	"voice-llm-chat-v1":   {"Voice", "The agent's custom LLM, at the path the platform appends to a base URL", voiceLLMDoc},
	"voice-webhook":       {"Voice", "The platform's post-call webhooks", "The voice platform, signed: `ElevenLabs-Signature: t=<unix seconds>,v0=<hex>`, an HMAC-SHA256 of `t.` and the raw body under `ELEVENLABS_WEBHOOK_SECRET`, within 30 minutes of now; anything else is 401 and nothing is stored. `post_call_transcription` keeps the call's transcript and analysis against its session (named by the signed session token the client passed; a bare `dynamic_variables.session_id`, which the client chooses, names nothing); `post_call_audio` streams the base64 MP3 into the session's recording, kept when the session has none and replacing one the browser uploaded. A redelivery stores nothing again; other events are acknowledged and ignored."},
	"course-sessions-csv": {"Sessions", "Download a course's sessions as CSV", "The course's instructors and administrators; an enrolled student is 403, anyone else 404. One row per session: the student (user id, name, username, email), week, times, duration, turn counts, whether it has a recording, and the whole transcript in one column; cells are escaped against formula injection." + signedInNote},
}

// voiceLLMDoc is what both paths of the custom LLM say.
const voiceLLMDoc = "The voice platform, for a student's session: `elevenlabs_extra_body.session_token` is the `session_token` from start, and when `ELEVENLABS_LLM_SECRET` is set the request must carry `Authorization: Bearer` it. A missing, wrong or expired token, a session that has ended, or a wrong platform secret: 401, and nothing runs. The last user message is the student's turn, run as `POST /api/sessions/{id}/message` runs it (stored first, moderated, on the session's clock, with the same 403, 409, 429 and 503); its position in the conversation names it, so a retried request is answered once. `stream: true` answers `chat.completion.chunk` events (the role, a filler ending in `... ` if the tutor is slow to begin, the answer's deltas, the finish reason) and `data: [DONE]`. Past the session's clock: one sentence of goodbye and, when the request offers the `end_call` tool, a call to it; the session ends."
