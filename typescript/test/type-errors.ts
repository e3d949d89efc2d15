// Compile-time only (never run): the types of database.ts bite. Each `@ts-expect-error`
// below must be an error under `tsc --strict --noEmit`: if database.ts stopped catching
// one (a column typed `any`, a union widened to `string`...), the directive would be
// unused, and tsc fails on an unused `@ts-expect-error`.
import type { SupabaseClient } from "@supabase/supabase-js"

import type {
  CompositeTypes,
  Database,
  Enums,
  Tables,
  TablesInsert,
  TablesUpdate,
} from "../src/database.js"

type Client = SupabaseClient<Database>

export async function correctQueriesCompile(db: Client): Promise<unknown[]> {
  const projects = await db.from("projects").select("id, title, niche_preset").eq("niche_preset", "history")
  const jobs = await db.from("jobs").select("id, status, projects(title)").eq("status", "RENDERING")
  const page = await db.rpc("get_dashboard", { p_limit: 20 })
  const claimed = await db.rpc("claim_draft_prompt", { p_session_token: "s".repeat(16), p_user_id: "u" })
  const insert: TablesInsert<"projects"> = { user_id: "u", title: "t", prompt_text: "p", niche_preset: "facts" }
  const update: TablesUpdate<"profiles"> = { notification_prefs: { job_failed: false } }
  const row: Tables<{ schema: "public" }, "jobs">["status"] = "QUEUED"
  const status: Enums<"job_status"> = "READY"
  const state: Enums<{ schema: "public" }, "step_status"> = "succeeded"
  return [projects.data, jobs.data?.[0]?.projects?.title, page.data, claimed.data, insert, update, row, status, state]
}

export async function wrongQueriesDoNot(db: Client): Promise<unknown[]> {
  const selected = await db.from("projects").select("id, title").single()
  return [
    // A column that does not exist.
    // @ts-expect-error the table has no column 'colour'
    await db.from("projects").select("*").eq("colour", "red"),
    // A table the API does not have.
    // @ts-expect-error there is no table 'users' in public
    await db.from("users").select("*"),
    // A column that was not selected.
    // @ts-expect-error 'prompt_text' was not selected
    selected.data?.prompt_text,
    // An enum value that does not exist.
    // @ts-expect-error 'DONE' is not a job_status
    await db.from("jobs").select("id").eq("status", "DONE"),
    // A value outside a CHECK (niche_preset IN (...)) list.
    await db
      .from("projects")
      // @ts-expect-error 'cooking' is not an allowed niche_preset
      .insert({ user_id: "u", title: "t", prompt_text: "p", niche_preset: "cooking" }),
    // A value of the wrong type.
    await db
      .from("projects")
      // @ts-expect-error target_minutes is a number
      .insert({ user_id: "u", title: "t", prompt_text: "p", niche_preset: "facts", target_minutes: "3" }),
    // A required column missing.
    // @ts-expect-error prompt_text is required
    await db.from("projects").insert({ user_id: "u", title: "t", niche_preset: "facts" }),
    // A column that never changes (the owner).
    // @ts-expect-error user_id cannot be updated
    await db.from("projects").update({ user_id: "someone else" }).eq("id", "p"),
    // An identity column written.
    // @ts-expect-error job_logs.id is GENERATED ALWAYS
    await db.from("job_logs").insert({ id: 1, job_id: "j", message: "m" }),
    // A key of a typed jsonb column with the wrong type.
    await db
      .from("profiles")
      // @ts-expect-error job_complete is a boolean
      .update({ notification_prefs: { job_complete: "yes" } })
      .eq("id", "u"),
    // A function the API roles of the frontend may not execute (service role only).
    // @ts-expect-error reserve_credits is not in Database["public"]["Functions"]
    await db.rpc("reserve_credits", { p_user_id: "u", p_job_id: "j", p_amount: 5 }),
    // A function argument missing.
    // @ts-expect-error p_user_id is required
    await db.rpc("claim_draft_prompt", { p_session_token: "s".repeat(16) }),
    // A function argument of the wrong type.
    // @ts-expect-error p_limit is a number
    await db.rpc("get_dashboard", { p_limit: "20" }),
  ]
}

// The helper types refuse names that do not exist.
// @ts-expect-error no table 'nope'
export type NoTable = Tables<"nope">
// @ts-expect-error views cannot be inserted into, and 'nope' is no table
export type NoInsert = TablesInsert<"nope">
// @ts-expect-error no enum 'colour'
export type NoEnum = Enums<"colour">
// @ts-expect-error no composite type 'point3d'
export type NoComposite = CompositeTypes<"point3d">
// @ts-expect-error 'DONE' is not a job_status
export const notAStatus: Enums<"job_status"> = "DONE"
// @ts-expect-error 'delivered' is not a credit_state (CHECK list)
export const notACreditState: Tables<"jobs">["credit_state"] = "delivered"
