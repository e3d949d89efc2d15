"""The statements one connection has prepared, with SQL ``PREPARE`` / ``EXECUTE``.

A request's transaction goes to the server as one multi-statement query (one round trip),
so its statements cannot be prepared at the protocol level; they are prepared in SQL
instead: the first time a connection runs the prelude, and the fifth time it runs any
other statement (psycopg's threshold), the query carries ``PREPARE pgrst_N AS ...`` before
``EXECUTE pgrst_N(...)``; from then on only ``EXECUTE``. A ``PREPARE`` survives the
transaction's end (commit, rollback or error), so a name is recorded once the query that
prepared it succeeded, or once the server confirms it after an error.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass

__all__ = ["Prepared", "Preparing", "to_positional"]

_PLACEHOLDER = re.compile(r"%%|%\((\w+)\)s")

#: Runs of a statement before a connection prepares it (psycopg's default threshold).
THRESHOLD = 5
#: Statements a connection keeps prepared (psycopg's default), and runs it remembers.
MAX_PREPARED = 100
_MAX_COUNTED = 500


def to_positional(query: str) -> tuple[str, list[str]]:
    """``query`` with its ``%(name)s`` placeholders as ``$1, $2...`` (``%%`` left as is, for
    the client-side binding of the whole text) and the names in their order."""
    names: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group(0)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _PLACEHOLDER.sub(replace, query), names


@dataclass(frozen=True)
class Preparing:
    """A statement a query prepares: once that succeeded, :meth:`Prepared.confirm` it."""

    query: str
    name: str
    execute: str


class Prepared:
    """One connection's prepared statements (by query text) and its runs of the others."""

    def __init__(self) -> None:
        self._statements: OrderedDict[str, Preparing] = OrderedDict()  # by query, LRU
        self._runs: OrderedDict[str, int] = OrderedDict()
        self._serial = 0
        self.stale: list[str] = []  # names evicted, to deallocate after a transaction

    def sql(
        self, query: str, *, threshold: int | None = None
    ) -> tuple[list[str], Preparing | None]:
        """The statements that run ``query`` (its result is the last one's), and what they
        prepare, if they do (``threshold``: runs before preparing, default :data:`THRESHOLD`)."""
        known = self._statements.get(query)
        if known is not None:
            self._statements.move_to_end(query)
            return [known.execute], None
        runs = self._runs.pop(query, 0) + 1
        if runs < (THRESHOLD if threshold is None else threshold):
            self._runs[query] = runs
            if len(self._runs) > _MAX_COUNTED:
                self._runs.popitem(last=False)
            return [query], None
        self._serial += 1
        name = f"pgrst_{self._serial}"
        body, params = to_positional(query)
        args = "(" + ", ".join(f"%({p})s" for p in params) + ")" if params else ""
        preparing = Preparing(query, name, f"EXECUTE {name}{args}")
        return [f"PREPARE {name} AS {body}", preparing.execute], preparing

    def confirm(self, preparing: Preparing) -> None:
        """Record that the statement exists on the server now."""
        self._statements[preparing.query] = preparing
        while len(self._statements) > MAX_PREPARED:
            _, evicted = self._statements.popitem(last=False)
            self.stale.append(evicted.name)

    def deallocated(self, names: list[str]) -> None:
        """Forget evicted statements a query deallocated (``stale``: those still to do)."""
        self.stale = [name for name in self.stale if name not in names]
