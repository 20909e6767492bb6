package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// A command's help lives here, in one table, rather than in each
// subcommand's flag set: `socratic help X` and `socratic X --help` must
// answer before a subcommand loads configuration or opens the database, and
// a wrong word must be told apart from a failed run (exit 2, not 1).
// TestHelpNamesEveryFlag keeps this text and the flag sets in step.
type command struct {
	name  string // the words that select it: "bench search"
	usage string // its synopsis and what it does, flags included
}

var commands = []command{
	{"serve", `usage: socratic serve

Run the HTTP server. The database in DATA_DIR (default ./data) is migrated
first. Configuration comes from the environment and an optional ./.env file;
see .env.example for every variable. A provider that is named but not fully
configured (LLM_PROVIDER, EMBEDDINGS_PROVIDER, VOICE_PROVIDER) stops the
server at start with what to set. With DATABASE_URL=postgres://… it runs on
PostgreSQL, and several instances may share the database (and a BLOB_URL
bucket): they migrate it one at a time. BACKUP_DIR's backups use pg_dump
there (docs/operations.md).`},
	{"migrate up", `usage: socratic migrate up

Apply every pending database migration. With DATABASE_URL=postgres://…
the PostgreSQL migrations are applied, under the lock serve takes to
migrate.`},
	{"migrate down", `usage: socratic migrate down

Roll back the most recent database migration.`},
	{"migrate status", `usage: socratic migrate status

List the database migrations and whether each is applied.`},
	{"user create", `usage: socratic user create --role R --email E --username U [--full-name N]

Create an account. The password is read from the first line of stdin, or
prompted for (twice, without echo) when stdin is a terminal. This is how the
first admin is made.

  --role R         student, professor or admin
  --email E        email address
  --username U     username
  --full-name N    full name (optional)`},
	{"ingest", `usage: socratic ingest --week W file.pdf [file.pdf ...]

Add readings to a week and process them. Stop the server first; while it
runs, upload through its API (POST /api/documents/upload).

  --week W         the week's id (GET /api/courses/{id} lists them)`},
	{"bench ingest", `usage: socratic bench ingest [--dir DIR] [--rounds N]

Measure PDF extraction (against pdftotext), chunking and end-to-end
ingestion on a folder of PDFs.

  --dir DIR        folder of PDFs (default: the corpus)
  --rounds N       times to repeat each measurement; the best is reported (3)`},
	{"bench search", `usage: socratic bench search [--qa FILE] [--sizes N,N,N] [--others N] [--per-week N] [--queries N] [--tuning SPEC] [--database URL]

Measure search latency (BM25, vectors, fusion) in weeks of 500, 5,000 and
50,000 passages, on SQLite in a scratch directory or on PostgreSQL.

  --qa FILE        QA file whose PDFs give the passages and whose questions
                   are the queries (default: the corpus's)
  --others N       chunks in other weeks for the second round (1000000)
  --per-week N     chunks in each other week (5000)
  --queries N      searches per measurement (300)
  --sizes N,N,N    passages in each measured week (500,5000,50000)
  --tuning SPEC    search parameters, as for eval retrieval (baseline, or
                   name=value,…)
  --database URL   an empty PostgreSQL database (postgres://…) to measure
                   PostgreSQL; a database that holds tables is refused. The
                   scratch week and its copies stay in it (default: SQLite
                   in a scratch directory, removed after)`},
	{"bench sessions", `usage: socratic bench sessions [--students N] [--turns N] [--audio-mb MB] [--dir DIR] [--bin FILE] [--setup-concurrency N] [--backup-every D] [--cpu-profile FILE] [--database URL] [--instances N] [--keep] [--against FILE] [--rounds N]

Run the server binary against a fake model at a realistic speed: N students
at once each start a session, stream turns and end with a recording. Reports
latency, server CPU per turn (the run's server CPU time over its answered
turns, session starts and ends included), peak RSS, lost turns and the
engine's lock errors (SQLite: "database is locked"/busy; PostgreSQL:
deadlocks, serialization failures, lock timeouts, running out of
connections; on both, the server's own "busy" refusals). "Per word" is
each word's delay from the fake's send to the client: after the first
word the server reads the model's stream at most every 50 ms, and it
gathers a reply's deltas for up to a tenth of a second (the first, and
one that ends a sentence or brings the space after one, go at once), so
it is tens of milliseconds by design. "Turn 1's burst" is the stretch
from the start to the last first message's arrival at the model, when
every student starts and sends at once: how busy the machine's CPUs were
in it, and how much of that was the server's CPU and how much this
bench's own (its clients and fake model share the machine).

  --students N     students running a session at once (200)
  --turns N        streamed turns per session (8)
  --audio-mb MB    size of each session's recording, in MB (1)
  --dir DIR        folder of PDFs; the smallest is the week's reading
                   (default: the corpus)
  --bin FILE       the socratic binary to run as the server (default: this
                   program)
  --setup-concurrency N
                   parallel requests while creating and signing in accounts
                   (4)
  --backup-every D have the server make a scheduled backup this often
                   during the run (BACKUP_INTERVAL), to measure what
                   backups cost turns (default 0: none)
  --database URL   the server's DATABASE_URL: an empty PostgreSQL database
                   (postgres://…) to measure PostgreSQL; a database that
                   holds tables is refused (default: SQLite in the run's
                   data directory)
  --instances N    servers on the one --database (same SECRET_KEY, one
                   upload and one recordings directory), behind a
                   round-robin proxy in the bench process; the report
                   gives each one's turns, RSS and CPU, and CPU per turn
                   summed over all. More than 1 needs PostgreSQL (1)
  --cpu-profile FILE
                   write the server's CPU profile over the measured run to
                   FILE (go tool pprof); the server is told by
                   SOCRATIC_CPU_PROFILE=FILE and SIGUSR1/SIGUSR2
  --keep           keep the data directory and server log (kept anyway when
                   the run fails)
  --against FILE   a second socratic binary (say, the previous commit's
                   build) run the same way, alternating with --bin round by
                   round (--bin first in odd rounds); after every run's
                   report, a summary gives each figure (CPU per turn,
                   server-added p50 and p99, turn 1's p99) in every round,
                   each binary's median, the ratio of the medians and in
                   how many rounds --bin was lower: one run says little on
                   a shared machine
  --rounds N       measured runs of each binary, summarised by their
                   medians (default 1, or 4 with --against: an even number,
                   so each binary goes first in as many rounds as the
                   other); not with --cpu-profile`},
	{"eval retrieval", `usage: socratic eval retrieval (--qa FILE.jsonl | --split dev|test|both) [--sets DIR] [--pdfs DIR] [--tuning SPEC] [--misses] [--rewrite]

Ingest a QA file's PDFs into a scratch week and report recall@1, recall@5
and MRR of BM25 and hybrid search, under the strict hit rule (a passage
holds the whole answer quote) and the lenient one (70% of its words).

  --qa FILE        QA file: one {"file", "question", "answer_quote"} per line
                   (optional "tutor_question" and "theme" for follow-ups)
  --split NAME     dev, test or both: testdata/eval/retrieval-NAME.jsonl,
                   each split's documents in a week of their own
  --sets DIR       folder of the split files (default: testdata/eval)
  --pdfs DIR       folder of the PDFs the QA file names (default: pdfs/
                   beside --qa; testdata/corpus/pdfs for --split)
  --tuning SPEC    measure other search parameters: baseline (before issue
                   18), or name=value,… of k1, b, tutor, theme, rerank,
                   synonyms, neighbours, chat, case, listing, rewrite
  --misses         list the questions with no lenient hit in the top 5
                   (study dev with it, not test)
  --rewrite        also measure QUERY_REWRITE: each question rewritten into
                   a search query by the configured model's fast variant
                   (one call per question; needs LLM_PROVIDER and its key),
                   with the rewrites' latency`},
	{"eval tutor", `usage: socratic eval tutor [--dialogues FILE.jsonl] [--pdfs DIR] [--split dev|test|both] [--model offline|fake|both] [--min-question F] [--min-short F] [--min-quote F] [--min-case F] [--max-repeats N] [--show]

Run scripted student turns through the real tutor (retrieval from a scratch
week of the split's PDFs, the tutor's turn, the moderation gate), offline and
with a local fake of the Anthropic API, and score every reply: ends on exactly
one question; under 60 words; quotes a whole sentence of the reading with its
title and page; no opener or quote repeated within a session; a turn naming a
case in the reading gets a reply quoting a passage that names it. Exits
non-zero below the thresholds. The fake model answers with the offline
tutor's words over what it reads in the prompt: its scores check that the
model path carries the readings, the clock and the reply intact, and say
nothing of how a real model teaches.

  --dialogues FILE one {"id", "split", "file", "turns": [{"student", "case"}]}
                   per line (default: testdata/eval/tutor-dialogues.jsonl)
  --pdfs DIR       folder of the PDFs the dialogues name (default:
                   testdata/corpus/pdfs)
  --split NAME     dev, test or both (default both); each split's PDFs are
                   the readings of one week
  --model NAME     offline, fake or both (default both)
  --min-question F least share ending on one question (default 1.0)
  --min-short F    least share under 60 words (default 1.0)
  --min-quote F    least share quoting a whole sentence with title and page
                   (default 0.95)
  --min-case F     least share of case-naming turns quoting it (default 0.80)
  --max-repeats N  most repeated openers or quotes (default 0)
  --show           print every dialogue and each failed check`},
	{"eval moderation", `usage: socratic eval moderation [--dev FILE.jsonl] [--test FILE.jsonl] [--test2 FILE.jsonl] [--misses]

Report the local moderation layers (rules, trained model, combined) on the
labelled dev and test sets: recall, false positives, per category.

  --dev FILE       dev set (default: testdata/eval/moderation-dev.jsonl)
  --test FILE      test set (default: testdata/eval/moderation-test.jsonl)
  --test2 FILE     a later held-out set, written independently of everything
                   tuned (default: testdata/eval/moderation-test-7.jsonl;
                   "" for none)
  --misses         list missed violations and flagged clean utterances
                   (dev and test; never test2's, which nothing is tuned on)`},
	{"models download", `usage: socratic models download [--no-runtime] [--hub URL] [--releases URL]

Fetch all-MiniLM-L6-v2 (ONNX) and ONNX Runtime into DATA_DIR/models, each
checked against a pinned sha256.

  --no-runtime     fetch the model only, not ONNX Runtime
  --hub URL        Hugging Face hub or mirror (default: HF_ENDPOINT, or
                   https://huggingface.co)
  --releases URL   where ONNX Runtime's release archives are`},
	opsHelp[0], opsHelp[1], opsHelp[2], opsHelp[3],
	{"voice setup-agent", `usage: socratic voice setup-agent [--agent-id ID] [--name N] [--language L] [--webhook-id ID]

Create or update the ElevenLabs agent that speaks the tutor: its custom LLM
is PUBLIC_URL/api/voice/llm (with ELEVENLABS_LLM_SECRET as its key when
set), its limit SESSION_MAX_DURATION_SECONDS, with the first-message,
language and voice overrides and the custom-LLM extra body the web client
sends, signed-URL authentication, and the post-call webhook (with audio).
Prints what it set. Needs ELEVENLABS_API_KEY and PUBLIC_URL.

  --agent-id ID    the agent to update (default ELEVENLABS_AGENT_ID; when
                   neither is given, a new agent is created)
  --name N         the agent's name (default APP_NAME)
  --language L     the conversation's language, ISO 639-1 (en)
  --webhook-id ID  the workspace webhook for post-call data (default: the
                   one whose URL is PUBLIC_URL/api/voice/webhook)`},
	{"version", `usage: socratic version

Print the version.`},
}

// groups are the first words that only select a subcommand.
var groups = map[string]string{
	"migrate": "apply, roll back one, or list database migrations",
	"user":    "manage accounts",
	"bench":   "measure ingestion, search and sessions",
	"eval":    "evaluate retrieval, moderation and tutor quality",
	"models":  "fetch the local embedding model",
	"voice":   "set up the ElevenLabs voice agent",
}

// errUsage marks a command line that is malformed (no command, an unknown
// one, a bad flag, a stray argument): main exits 2 for it,
// as Unix tools do, so a script tells a typo from a failed run.
var errUsage = errors.New("usage")

type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }
func (e *usageError) Unwrap() error { return errUsage }

// parseFlags parses a subcommand's flags; a flag it does not know, or a
// value of the wrong kind, is a usage error (exit 2) like an unknown
// command. The flag set has already printed its flags to stderr.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return &usageError{err.Error()}
	}
	return nil
}

// isHelpFlag reports whether a word asks for help.
func isHelpFlag(s string) bool { return s == "-h" || s == "-help" || s == "--help" }

// wantsHelp reports whether the arguments after a command ask for its help;
// words after "--" are operands, never flags.
func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if isHelpFlag(a) {
			return true
		}
	}
	return false
}

// resolve finds the command that args select, and how many words name it.
// A group with no known subcommand resolves to nothing, with ok false.
func resolve(args []string) (c command, words int, ok bool) {
	if len(args) == 0 {
		return command{}, 0, false
	}
	if _, isGroup := groups[args[0]]; isGroup {
		if len(args) < 2 {
			return command{}, 1, false
		}
		name := args[0] + " " + args[1]
		for _, c := range commands {
			if c.name == name {
				return c, 2, true
			}
		}
		return command{}, 1, false
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c, 1, true
		}
	}
	return command{}, 0, false
}

// groupUsage lists a group's subcommands, one synopsis each.
func groupUsage(group string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: socratic %s <command> [arguments]\n\n%s.\n\ncommands:\n", group, capitalize(groups[group]))
	for _, c := range commands {
		if strings.HasPrefix(c.name, group+" ") {
			fmt.Fprintf(&b, "  %s\n", firstLine(c.usage))
		}
	}
	fmt.Fprintf(&b, "\nRun 'socratic help %s <command>' for a command's flags.", group)
	return b.String()
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimPrefix(line, "usage: ")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// help answers `socratic help [words...]` on stdout, or a usage error when
// the words name nothing.
func help(words []string, stdout, stderr io.Writer) error {
	if len(words) == 0 {
		fmt.Fprintln(stdout, usage)
		return nil
	}
	if c, n, ok := resolve(words); ok && n == len(words) {
		fmt.Fprintln(stdout, c.usage)
		return nil
	}
	if _, isGroup := groups[words[0]]; isGroup && len(words) == 1 {
		fmt.Fprintln(stdout, groupUsage(words[0]))
		return nil
	}
	return unknown(words, stderr)
}

// unknown prints the closest usage to stderr and returns a usage error.
func unknown(args []string, stderr io.Writer) error {
	if _, isGroup := groups[args[0]]; isGroup {
		fmt.Fprintln(stderr, groupUsage(args[0]))
		if len(args) < 2 {
			return &usageError{fmt.Sprintf("%s needs a command", args[0])}
		}
		return &usageError{fmt.Sprintf("unknown command %q", args[0]+" "+args[1])}
	}
	fmt.Fprintln(stderr, usage)
	return &usageError{fmt.Sprintf("unknown command %q", strings.Join(args, " "))}
}
