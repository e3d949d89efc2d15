"""Known shapes of JSON columns, which the schema itself cannot express.

A column listed here gets a typed sub-model (a :class:`~vidgen_db.models._base.JsonObject`)
instead of a plain JSON value; each field's default is taken from the column's default
when that default is a JSON object holding the key.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["JSON_SHAPES", "JsonShape"]


@dataclass(frozen=True)
class JsonShape:
    class_name: str
    doc: str
    #: (key, Python type) in the order the model declares them.
    fields: tuple[tuple[str, str], ...]


JSON_SHAPES: dict[tuple[str, str], JsonShape] = {
    ("profiles", "notification_prefs"): JsonShape(
        "NotificationPrefs",
        "Which e-mails a user receives (profiles.notification_prefs).",
        (("job_complete", "bool"), ("job_failed", "bool")),
    ),
}
