// A professor and a student through the client generated from
// /openapi.json, written as a client author would, with no casts, no `any`
// and no non-null assertions: if the description is loose (a list that
// may be null, an optional field made required, a file typed as a string,
// an error without a detail) this stops type-checking.
import createClient from "openapi-fetch";
import type { components, paths } from "./api";

type Problem = components["schemas"]["ErrorModel"];
type Source = components["schemas"]["Source"];

function fail(step: string, e: Problem): never {
  throw new Error(`${step}: ${e.status} ${e.title}: ${e.detail}`);
}

export async function professorAndStudent(baseUrl: string, reading: Blob, password: string): Promise<string[]> {
  const log: string[] = [];
  const anon = createClient<paths>({ baseUrl });

  const root = await anon.GET("/", { headers: { Accept: "application/json" } });
  // "/" is documented as JSON or HTML; asking for JSON, narrow to it.
  if (root.data && typeof root.data !== "string") log.push(`${root.data.message} ${root.data.version}`);
  const health = await anon.GET("/api/health");
  if (health.error) fail("health", health.error);
  const c = health.data.components;
  log.push([c.database.status, c.jobs.status, c.llm.status, c.embeddings.status, c.voice.status].join(" "));

  // The professor signs in, makes a course and a week, and uploads a reading.
  const login = await anon.POST("/api/auth/login", { body: { username: "professor", password } });
  if (login.error) fail("login", login.error);
  const prof = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${login.data.access_token}` } });
  const course = await prof.POST("/api/courses", { body: { code: "LAW 101", name: "Criminal Procedure" } });
  if (course.error) fail("create course", course.error);
  const joinCode: string | undefined = course.data.join_code;
  const instructors: number[] = course.data.instructor_ids;
  log.push(`course ${course.data.id} taught by ${instructors.join(",")}`);
  const week = await prof.POST("/api/courses/{course_id}/weeks", {
    params: { path: { course_id: course.data.id } },
    body: { week_number: 1, title: "Stops and frisks" },
  });
  if (week.error) fail("create week", week.error);
  const themes: string[] = week.data.themes;
  log.push(`week ${week.data.week_number}: ${themes.length} themes`);
  const upload = await prof.POST("/api/documents/upload", {
    params: { query: { week_id: week.data.id } },
    body: { file: reading },
    bodySerializer(body) {
      const form = new FormData();
      form.append("file", body.file, "reading.pdf");
      return form;
    },
  });
  if (upload.error) fail("upload", upload.error);
  // Processing happens in the background: wait for it, as a client would.
  let status = upload.data.status;
  for (let i = 0; status !== "processed"; i++) {
    if (status === "failed" || i === 300) throw new Error(`the reading is ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const polled = await prof.GET("/api/documents/{document_id}", { params: { path: { document_id: upload.data.document_id } } });
    if (polled.error) fail("poll document", polled.error);
    status = polled.data.status;
  }
  const doc = await prof.GET("/api/documents/{document_id}", { params: { path: { document_id: upload.data.document_id } } });
  if (doc.error) fail("document", doc.error);
  const why: string | null = doc.data.error;
  const warnings: string[] | undefined = doc.data.warnings;
  log.push(`${doc.data.original_filename}: ${doc.data.status} ${why ?? ""} ${warnings?.length ?? 0}`);
  const docs = await prof.GET("/api/documents", { params: { query: { week_id: week.data.id } } });
  if (docs.error) fail("documents", docs.error);
  log.push(`${docs.data.total} documents: ${docs.data.items.map((d) => d.status).join(",")}`);

  // A student registers with the course's join code and talks to the tutor.
  const reg = await anon.POST("/api/auth/register", {
    body: { email: "new.student@law.example.edu", username: "newstudent", password, ...(joinCode ? { join_code: joinCode } : {}) },
  });
  if (reg.error) fail("register", reg.error);
  const slogin = await anon.POST("/api/auth/login", { body: { username: reg.data.username, password } });
  if (slogin.error) fail("student login", slogin.error);
  const student = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${slogin.data.access_token}` } });
  const mine = await student.GET("/api/courses");
  if (mine.error) fail("courses", mine.error);
  log.push(`enrolled in ${mine.data.items.map((x) => x.code).join(",")}`);
  const found = await student.POST("/api/weeks/{week_id}/search", {
    params: { path: { week_id: week.data.id } },
    body: { query: "reasonable suspicion" }, // k is optional
  });
  if (found.error) fail("search", found.error);
  const passages: Source[] = found.data.items;
  log.push(`search: ${passages.map((p) => `${p.filename} p.${p.page}`).join("; ")}`);
  const quota = await student.GET("/api/sessions/quota");
  if (quota.error) fail("quota", quota.error);
  log.push(`quota ${quota.data.used}/${quota.data.limit}`);

  const start = await student.POST("/api/sessions/start", { body: { week_id: week.data.id } });
  if (start.error) {
    // 409 until the reading is processed; 429 when the week's quota is spent.
    const retry: string | null = start.response.headers.get("Retry-After");
    fail(`start (retry after ${retry ?? "-"})`, start.error);
  }
  const left: number | null = start.data.remaining_this_week;
  log.push(`session ${start.data.session_id}: ${start.data.opening_message} (${left ?? "unlimited"} left, voice ${start.data.voice.provider})`);
  const path = { session_id: start.data.session_id };
  const msg = await student.POST("/api/sessions/{session_id}/message", {
    params: { path },
    body: { message: "The officer saw two men flee the car.", client_msg_id: "m-1" },
  });
  if (msg.error) fail("message", msg.error);
  log.push(`tutor: ${msg.data.response} [${msg.data.sources.map((s) => s.chunk_id).join(",")}] moderated=${msg.data.moderated}`);
  const end = await student.POST("/api/sessions/{session_id}/end", { params: { path } });
  if (end.error) fail("end", end.error);
  log.push(`ended after ${end.data.duration_seconds}s, ${end.data.transcript.length} turns`);

  // The professor reviews the course's sessions.
  const list = await prof.GET("/api/sessions", { params: { query: { course_id: course.data.id } } });
  if (list.error) fail("sessions", list.error);
  for (const s of list.data.items) {
    const ended: string | null = s.ended_at;
    log.push(`session ${s.id} of user ${s.user_id}: ${s.status} ${ended ?? ""}`);
  }
  const one = await prof.GET("/api/sessions/{session_id}", { params: { path } });
  if (one.error) fail("session", one.error);
  for (const turn of one.data.transcript) {
    log.push(`${turn.role}: ${turn.content} (${(turn.sources ?? []).length} sources)`);
  }
  const csv = await prof.GET("/api/courses/{course_id}/sessions.csv", { params: { path: { course_id: course.data.id } }, parseAs: "text" });
  if (csv.error) fail("csv", csv.error);
  log.push(`csv: ${csv.data.split("\n").length} lines`);
  const students = await prof.GET("/api/courses/{course_id}/students", { params: { path: { course_id: course.data.id } } });
  if (students.error) fail("students", students.error);
  log.push(`students: ${students.data.items.map((u) => `${u.username} <${u.email}> ${u.role}`).join(", ")}`);
  return log;
}
