"""The fixed parts of ``database.ts``: the ``Json`` type and the helper types.

The helpers take the arguments of those of ``supabase gen types typescript``
(``Tables<"projects">``, or ``Tables<{ schema: "public" }, "projects">``), so code written
against Supabase's generated file compiles against this one.
"""

from __future__ import annotations

__all__ = ["HELPERS", "JSON_TYPE"]

JSON_TYPE = """\
export type Json =
  | string
  | number
  | boolean
  | null
  | { [key: string]: Json | undefined }
  | Json[]"""

HELPERS = """\
type SchemaName = keyof Database
type SchemaOption = { schema: SchemaName }
type SchemaOf<T> = T extends SchemaOption ? T["schema"] : "public"
type NameOf<T, N> = T extends SchemaOption ? N : T
type Relations<S extends SchemaName> = Database[S]["Tables"] & Database[S]["Views"]
type Entry<Group, Name> = Group[Name & keyof Group]

/** A row of a table or view: `Tables<"projects">`. */
export type Tables<
  T extends keyof Relations<"public"> | SchemaOption,
  N extends T extends SchemaOption ? keyof Relations<T["schema"]> : never = never,
> = Entry<Relations<SchemaOf<T>>, NameOf<T, N>> extends { Row: infer R } ? R : never

/** The body of an insert into a table: `TablesInsert<"projects">`. */
export type TablesInsert<
  T extends keyof Database["public"]["Tables"] | SchemaOption,
  N extends T extends SchemaOption ? keyof Database[T["schema"]]["Tables"] : never = never,
> = Entry<Database[SchemaOf<T>]["Tables"], NameOf<T, N>> extends { Insert: infer I } ? I : never

/** The body of an update of a table: `TablesUpdate<"projects">`. */
export type TablesUpdate<
  T extends keyof Database["public"]["Tables"] | SchemaOption,
  N extends T extends SchemaOption ? keyof Database[T["schema"]]["Tables"] : never = never,
> = Entry<Database[SchemaOf<T>]["Tables"], NameOf<T, N>> extends { Update: infer U } ? U : never

/** The values of an enum: `Enums<"job_status">`. */
export type Enums<
  T extends keyof Database["public"]["Enums"] | SchemaOption,
  N extends T extends SchemaOption ? keyof Database[T["schema"]]["Enums"] : never = never,
> = Entry<Database[SchemaOf<T>]["Enums"], NameOf<T, N>>

/** A composite type: `CompositeTypes<"name">`. */
export type CompositeTypes<
  T extends keyof Database["public"]["CompositeTypes"] | SchemaOption,
  N extends T extends SchemaOption ? keyof Database[T["schema"]]["CompositeTypes"] : never = never,
> = Entry<Database[SchemaOf<T>]["CompositeTypes"], NameOf<T, N>>"""
