"""Relationships between relations, inferred from foreign keys as PostgREST does."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Literal

from ._errors import ApiError
from ._schema_cache import ForeignKey, Function, Relation, SchemaCache

__all__ = ["Relationship", "find_relationship"]

Cardinality = Literal["many-to-one", "one-to-many", "one-to-one", "many-to-many"]


@dataclass(frozen=True)
class Relationship:
    """How ``source`` reaches ``target``.

    For direct relationships ``pairs`` holds (source column, target column) pairs. For
    many-to-many, ``junction`` is the junction relation, ``pairs`` holds
    (junction column, source column) pairs and ``target_pairs`` (junction column, target column).
    """

    source: Relation
    target: Relation
    cardinality: Cardinality
    constraint: str
    pairs: tuple[tuple[str, str], ...]
    junction: Relation | None = None
    target_constraint: str = ""
    target_pairs: tuple[tuple[str, str], ...] = ()
    fk_columns: tuple[str, ...] = ()
    ref_columns: tuple[str, ...] = ()
    function: Function | None = None
    """For a computed relationship: the function of the source row returning the target."""

    @property
    def to_one(self) -> bool:
        return self.cardinality in ("many-to-one", "one-to-one")

    def describe(self) -> dict[str, Any]:
        """The entry PostgREST lists in a PGRST201 error."""

        def cols(names: tuple[str, ...]) -> str:
            return "(" + ", ".join(names) + ")"

        embedding = f"{self.source.name} with {self.target.name}"
        if self.junction is not None:
            source_cols = cols(tuple(j for j, _ in self.pairs))
            target_cols = cols(tuple(j for j, _ in self.target_pairs))
            rel = (
                f"{self.junction.name} using {self.constraint}{source_cols}"
                f" and {self.target_constraint}{target_cols}"
            )
        else:
            rel = (
                f"{self.constraint} using {self.source.name}{cols(tuple(s for s, _ in self.pairs))}"
                f" and {self.target.name}{cols(tuple(t for _, t in self.pairs))}"
            )
        return {"cardinality": self.cardinality, "embedding": embedding, "relationship": rel}

    def hint_name(self) -> str:
        return self.junction.name if self.junction is not None else self.constraint


def _is_unique(rel: Relation, columns: tuple[str, ...]) -> bool:
    return any(set(u) <= set(columns) for u in rel.uniques)


def _candidates(cache: SchemaCache, source: Relation, target_name: str) -> list[Relationship]:
    out: list[Relationship] = []
    schema = source.schema
    target = cache.relation(schema, target_name)
    fks = cache.foreign_keys
    if target is not None:
        for fk in fks:
            if fk.schema != schema or fk.ref_schema != schema:
                continue
            if fk.table == source.name and fk.ref_table == target.name:
                card: Cardinality = (
                    "one-to-one" if _is_unique(source, fk.columns) else "many-to-one"
                )
                out.append(
                    Relationship(
                        source,
                        target,
                        card,
                        fk.name,
                        tuple(zip(fk.columns, fk.ref_columns, strict=True)),
                        fk_columns=fk.columns,
                        ref_columns=fk.ref_columns,
                    )
                )
            if fk.ref_table == source.name and fk.table == target.name:
                card = "one-to-one" if _is_unique(target, fk.columns) else "one-to-many"
                out.append(
                    Relationship(
                        source,
                        target,
                        card,
                        fk.name,
                        tuple(zip(fk.ref_columns, fk.columns, strict=True)),
                        fk_columns=fk.columns,
                        ref_columns=fk.ref_columns,
                    )
                )
        out.extend(_many_to_many(cache, source, target))
    return out


def _many_to_many(cache: SchemaCache, source: Relation, target: Relation) -> list[Relationship]:
    out: list[Relationship] = []
    by_table: dict[str, list[ForeignKey]] = {}
    for fk in cache.foreign_keys:
        if fk.schema == source.schema and fk.ref_schema == source.schema:
            by_table.setdefault(fk.table, []).append(fk)
    for table, fks in by_table.items():
        junction = cache.relation(source.schema, table)
        if junction is None or table in (source.name, target.name):
            continue
        for f1 in fks:
            if f1.ref_table != source.name:
                continue
            for f2 in fks:
                if f2 is f1 or f2.ref_table != target.name:
                    continue
                if not (set(f1.columns) | set(f2.columns)) <= set(junction.pk):
                    continue  # PostgREST: both foreign keys must be part of the primary key
                out.append(
                    Relationship(
                        source,
                        target,
                        "many-to-many",
                        f1.name,
                        tuple(zip(f1.columns, f1.ref_columns, strict=True)),
                        junction=junction,
                        target_constraint=f2.name,
                        target_pairs=tuple(zip(f2.columns, f2.ref_columns, strict=True)),
                    )
                )
    return out


def _matches_hint(rel: Relationship, hint: str) -> bool:
    if rel.junction is not None:
        return hint in (rel.junction.name, rel.constraint, rel.target_constraint)
    if hint == rel.constraint:
        return True
    return (len(rel.fk_columns) == 1 and hint == rel.fk_columns[0]) or (
        len(rel.ref_columns) == 1 and hint == rel.ref_columns[0]
    )


def find_relationship(
    cache: SchemaCache, source: Relation, target_name: str, hint: str | None
) -> Relationship:
    """The one relationship an embed ``target!hint`` designates, or PGRST200/PGRST201."""
    fn = cache.computed_relationships(source).get(target_name)
    if fn is not None and fn.return_relation is not None:
        target = cache.relations[fn.return_relation]
        single = not fn.returns_set or fn.rows_estimate == 1
        card: Cardinality = "many-to-one" if single else "one-to-many"
        return Relationship(source, target, card, fn.name, (), function=fn)
    found = _candidates(cache, source, target_name)
    if hint is not None:
        found = [r for r in found if _matches_hint(r, hint)]
    if len(found) == 1:
        return found[0]
    if not found:
        using = f"' using the hint '{hint}" if hint else ""
        suggestion: str | None = None
        names = [name for (schema, name) in cache.relations if schema == source.schema]
        close = difflib.get_close_matches(target_name, names, n=1, cutoff=0.75)
        if close and close[0] != target_name:
            suggestion = f"Perhaps you meant '{close[0]}' instead of '{target_name}'."
        raise ApiError(
            400,
            "PGRST200",
            f"Could not find a relationship between '{source.name}' and '{target_name}' "
            "in the schema cache",
            f"Searched for a foreign key relationship between '{source.name}' and "
            f"'{target_name}{using}' in the schema '{source.schema}', but no matches were found.",
            suggestion,
        )
    hints = ", ".join(f"'{target_name}!{r.hint_name()}'" for r in found)
    raise ApiError(
        300,
        "PGRST201",
        f"Could not embed because more than one relationship was found for '{source.name}' "
        f"and '{target_name}'",
        [r.describe() for r in found],
        f"Try changing '{target_name}' to one of the following: {hints}. Find the desired "
        "relationship in the 'details' key.",
    )
