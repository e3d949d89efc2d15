// The frontend's path through supabase-js, against the local stack (run by run_e2e.py):
// a visitor saves a draft with the anon key, signs in, claims it, works with their
// projects, jobs, dashboard and credits, cancels a job, and is refused another user's rows.
import assert from "node:assert/strict"
import { randomBytes } from "node:crypto"
import { test } from "node:test"

import { createClient, type SupabaseClient, type SupabaseClientOptions } from "@supabase/supabase-js"
import ws from "ws"

import { Constants, type Database, type Enums, type Tables } from "../src/database.js"

type Client = SupabaseClient<Database>
/** Compile-time check that two types are the same. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
function expectType<T extends true>(): T | undefined {
  return undefined
}

function env(name: string): string {
  const value = process.env[name]
  assert.ok(value, `${name} is not set: run this suite with typescript/run_e2e.py`)
  return value
}

const url = env("SUPABASE_URL")
const anonKey = env("SUPABASE_ANON_KEY")
const ada = {
  id: env("VIDGEN_E2E_ADA_ID"),
  token: env("VIDGEN_E2E_ADA_TOKEN"),
  projectId: env("VIDGEN_E2E_ADA_PROJECT_ID"),
  jobId: env("VIDGEN_E2E_ADA_JOB_ID"),
}
const bob = {
  id: env("VIDGEN_E2E_BOB_ID"),
  projectId: env("VIDGEN_E2E_BOB_PROJECT_ID"),
  jobId: env("VIDGEN_E2E_BOB_JOB_ID"),
}

const auth = { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false }
// supabase-js builds its Realtime client up front, which needs a WebSocket: browsers and
// Node 22+ have one, Node 20 gets it from the ws package.
type Transport = NonNullable<NonNullable<SupabaseClientOptions<"public">["realtime"]>["transport"]>
const realtime = { transport: ws as unknown as Transport }

/** The browser's client before sign-in: the anon key only. */
function anonClient(): Client {
  return createClient<Database>(url, anonKey, { auth, realtime })
}

/** The client of a signed-in user: the anon key, and the user's access token. */
function userClient(accessToken: string): Client {
  return createClient<Database>(url, anonKey, {
    auth,
    realtime,
    global: { headers: { Authorization: `Bearer ${accessToken}` } },
  })
}

const visitor = anonClient()
const user = userClient(ada.token)
const sessionToken = randomBytes(24).toString("hex")
let claimedDraftId: string | null = null

test("a visitor saves a draft with the anon key, and cannot read drafts back", async () => {
  const saved = await visitor
    .from("draft_prompts")
    .insert({ session_token: sessionToken, prompt_text: "A 60-second history of the printing press" })
  assert.equal(saved.error, null)
  assert.equal(saved.status, 201)

  const read = await visitor.from("draft_prompts").select("id")
  assert.equal(read.data, null)
  assert.equal(read.error?.code, "42501")
})

test("the signed-in user claims the visitor's draft", async () => {
  const claimed = await user.rpc("claim_draft_prompt", {
    p_session_token: sessionToken,
    p_user_id: ada.id,
  })
  assert.equal(claimed.error, null)
  expectType<Equal<typeof claimed.data, string | null>>()
  assert.ok(claimed.data)
  claimedDraftId = claimed.data

  const draft = await user
    .from("draft_prompts")
    .select("id, user_id, prompt_text")
    .eq("id", claimed.data)
    .single()
  assert.equal(draft.error, null)
  assert.equal(draft.data?.user_id, ada.id)
  assert.equal(draft.data?.prompt_text, "A 60-second history of the printing press")

  const again = await user.rpc("claim_draft_prompt", { p_session_token: sessionToken, p_user_id: ada.id })
  // A repeat (a retry after a lost response) returns the draft this user already claimed.
  assert.equal(again.data, claimed.data, "a repeated claim returns the same draft")
})

test("the user turns the draft into a project and lists their projects with their jobs", async () => {
  assert.ok(claimedDraftId)
  const draft = await user.from("draft_prompts").select("prompt_text").eq("id", claimedDraftId).single()
  assert.ok(draft.data)
  const created = await user
    .from("projects")
    .insert({
      user_id: ada.id,
      title: "The printing press",
      prompt_text: draft.data.prompt_text,
      niche_preset: "history",
      target_minutes: 2,
    })
    .select()
    .single()
  assert.equal(created.error, null)
  assert.ok(created.data)
  expectType<Equal<typeof created.data, Tables<"projects">>>()
  assert.equal(created.data.niche_preset, "history")
  assert.equal(created.data.target_minutes, 2)

  const listed = await user
    .from("projects")
    .select("id, title, niche_preset, jobs(id, status)")
    .order("created_at", { ascending: false })
  assert.equal(listed.error, null)
  assert.ok(listed.data)
  expectType<Equal<(typeof listed.data)[number]["niche_preset"], Tables<"projects">["niche_preset"]>>()
  assert.deepEqual(
    listed.data.map((p) => p.id).sort(),
    [ada.projectId, created.data.id].sort(),
  )
  const first = listed.data.find((p) => p.id === ada.projectId)
  assert.deepEqual(first?.jobs, [{ id: ada.jobId, status: "QUEUED" }])
  for (const project of listed.data) {
    assert.ok(Constants.public.Checks.projects.niche_preset.includes(project.niche_preset))
  }
})

test("the user lists their jobs, each with its project", async () => {
  const jobs = await user.from("jobs").select("id, status, progress, credit_state, projects(title)")
  assert.equal(jobs.error, null)
  assert.ok(jobs.data)
  assert.equal(jobs.data.length, 1)
  const [job] = jobs.data
  const status: Enums<"job_status"> = job.status
  assert.equal(status, "QUEUED")
  assert.ok(Constants.public.Enums.job_status.includes(status))
  assert.equal(job.credit_state, "reserved")
  assert.equal(job.projects?.title, "Ada's first video")
})

test("the user reads the dashboard", async () => {
  const page = await user.rpc("get_dashboard", { p_limit: 10 })
  assert.equal(page.error, null)
  assert.ok(page.data)
  assert.equal(page.data.length, 2)
  const seeded = page.data.find((row) => row.id === ada.projectId)
  assert.equal(seeded?.latest_job_id, ada.jobId)
  assert.equal(seeded?.latest_job_status, "QUEUED")
  const fresh = page.data.find((row) => row.id !== ada.projectId)
  assert.equal(fresh?.latest_job_id, null, "a project without a job has no latest job")

  const next = await user.rpc("get_dashboard", {
    p_limit: 1,
    p_before_created_at: page.data[0].created_at ?? undefined,
    p_before_id: page.data[0].id ?? undefined,
  })
  assert.deepEqual(next.data?.map((row) => row.id), [page.data[1].id])
})

test("the user reads their credits: the balance, the function and the ledger", async () => {
  const balance = await user.from("credit_balances").select("balance").single()
  assert.equal(balance.error, null)
  assert.equal(balance.data?.balance, 5, "10 welcome credits, 5 reserved for the job")

  const viaFunction = await user.rpc("get_credit_balance", { p_user_id: ada.id })
  expectType<Equal<typeof viaFunction.data, number | null>>()
  assert.equal(viaFunction.data, 5)

  const ledger = await user
    .from("credit_ledger")
    .select("type, amount, balance_after")
    .order("created_at", { ascending: true })
  assert.deepEqual(ledger.data, [
    { type: "grant", amount: 10, balance_after: 10 },
    { type: "reserve", amount: -5, balance_after: 5 },
  ])
})

test("the user edits their notification preferences (a typed jsonb column)", async () => {
  const updated = await user
    .from("profiles")
    .update({ notification_prefs: { job_complete: false, job_failed: true } })
    .eq("id", ada.id)
    .select("display_name, notification_prefs")
    .single()
  assert.equal(updated.error, null)
  assert.equal(updated.data?.display_name, "Ada")
  const prefs: Tables<"profiles">["notification_prefs"] | undefined = updated.data?.notification_prefs
  assert.deepEqual(prefs, { job_complete: false, job_failed: true })
})

test("the user is refused another user's rows", async () => {
  const project = await user.from("projects").select("id").eq("id", bob.projectId)
  assert.deepEqual(project.data, [], "row level security hides the row")

  const jobs = await user.from("jobs").select("id").eq("id", bob.jobId)
  assert.deepEqual(jobs.data, [])

  const renamed = await user.from("projects").update({ title: "mine now" }).eq("id", bob.projectId).select("id")
  assert.deepEqual(renamed.data, [], "an update matches no row")

  const removed = await user.from("projects").delete().eq("id", bob.projectId).select("id")
  assert.deepEqual(removed.data, [])

  const planted = await user
    .from("projects")
    .insert({ user_id: bob.id, title: "t", prompt_text: "p", niche_preset: "facts" })
  assert.equal(planted.error?.code, "42501", "no project for someone else")

  const balance = await user.rpc("get_credit_balance", { p_user_id: bob.id })
  assert.equal(balance.error?.code, "42501")

  const claim = await user.rpc("claim_draft_prompt", { p_session_token: sessionToken, p_user_id: bob.id })
  assert.equal(claim.error?.code, "42501")

  const bobStillOwns = await userClient(env("VIDGEN_E2E_BOB_TOKEN"))
    .from("projects")
    .select("id, title")
    .eq("id", bob.projectId)
    .single()
  assert.equal(bobStillOwns.data?.title, "Bob's first video")
})

test("a visitor cannot call the signed-in functions", async () => {
  const dashboard = await visitor.rpc("get_dashboard", {})
  assert.equal(dashboard.data, null)
  assert.equal(dashboard.error?.code, "42501")
})

test("the user cancels their queued job and gets its credits back", async () => {
  const others = await user.rpc("cancel_job", { p_job_id: bob.jobId })
  assert.equal(others.data, null)
  assert.equal(others.error?.code, "VG002", "another user's job is unknown to them")

  const cancelled = await user.rpc("cancel_job", { p_job_id: ada.jobId })
  assert.equal(cancelled.error, null)
  expectType<Equal<typeof cancelled.data, Tables<"jobs"> | null>>()
  assert.equal(cancelled.data?.status, "FAILED")
  assert.equal(cancelled.data?.error_code, "CANCELLED")
  assert.equal(cancelled.data?.credit_state, "refunded")

  const balance = await user.rpc("get_credit_balance", { p_user_id: ada.id })
  assert.equal(balance.data, 10, "the 5 reserved credits are refunded")
})
