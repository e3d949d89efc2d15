"""The docs cannot drift from the code.

- Every ``vidgen-db`` invocation shown in README.md and docs/ (in bash, console and text
  blocks, and inline code spans) parses with the real parser: the command exists, every
  ``--flag`` shown is one of its options, and the argv parses.
- The README's "The CLI" list names every command and every subcommand of each group.
- Every public name (``__all__`` of each public module), CLI command and flag and
  ``VIDGEN_*`` setting appears somewhere in README.md or docs/ (docs/schema.md aside: it
  is generated).
- Each CLI option is read by its command (no command lists an option it ignores), and
  the ``--database-url`` help of each command says what the URL is for.
- docs/security.md's function table matches the EXECUTE privileges of a migrated database,
  function by function and role by role.
- docs/credits-and-jobs.md's error table matches the SQL: each function's row lists exactly
  the codes it can raise, in its body or in what it runs (the functions it calls, and the
  triggers its writes fire), so codes passing through (``queue_job`` ->
  ``reserve_credits``) are listed too.

The CLI is read through its public surface: ``--help`` output to enumerate commands and
options, ``parse_known_args`` to check what the docs show.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import os
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock

import psycopg
import pytest
from pydantic_settings import BaseSettings

import vidgen_db
from vidgen_db.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
#: Generated from the catalog (tests/test_schema_docs.py keeps it current): not prose.
GENERATED_DOCS = {"schema.md"}

#: The public modules whose ``__all__`` must be documented.
PUBLIC_MODULES = (
    "vidgen_db",
    "vidgen_db.models",
    "vidgen_db.repos",
    "vidgen_db.migrate",
    "vidgen_db.codegen",
    "vidgen_db.local",
    "vidgen_db.local.gateway",
    "vidgen_db.testing",
    "vidgen_db.worker",
    "vidgen_db.cli",
)

#: Environment variables in the source that are plumbing, not settings a reader sets.
INTERNAL_ENV = {
    "VIDGEN_GATEWAY_CONFIG": "how `serve --workers N` hands its config to its processes",
}


def doc_paths() -> list[Path]:
    docs = sorted(p for p in DOCS.glob("*.md") if p.name not in GENERATED_DOCS)
    return [ROOT / "README.md", *docs]


@cache
def docs_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in doc_paths())


def mentioned(name: str) -> bool:
    """Whether ``name`` appears in the docs as a whole word (``Page`` is not ``Pages``)."""
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", docs_text()) is not None


# -- the CLI, as --help shows it -------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """One ``vidgen-db`` command (a group, or a leaf), as its ``--help`` describes it."""

    path: tuple[str, ...]
    subcommands: tuple[str, ...]
    positionals: tuple[str, ...]
    flags: frozenset[str]
    #: ``--flag`` -> its help text (one line: the help is printed wide).
    flag_help: dict[str, str] = field(hash=False, compare=False)

    @property
    def name(self) -> str:
        return " ".join(("vidgen-db", *self.path))


def help_text(path: tuple[str, ...]) -> str:
    out = io.StringIO()
    with (
        mock.patch.dict(os.environ, {"COLUMNS": "400"}),
        contextlib.redirect_stdout(out),
        contextlib.suppress(SystemExit),
    ):
        build_parser().parse_args([*path, "--help"])
    return out.getvalue()


def parse_help(path: tuple[str, ...], text: str) -> Command:
    subcommands: list[str] = []
    positionals: list[str] = []
    flag_help: dict[str, str] = {}
    section = ""
    flags: list[str] = []  # the option whose help the next indented lines continue
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.fullmatch(r"\S.*:", line):
            section, flags = line[:-1], []
        elif match := re.fullmatch(r"    (\S+)(?:\s{2,}.*)?", line):
            subcommands.append(match[1])
            flags = []
        elif match := re.fullmatch(r"  (-\S.*?)(?:\s{2,}(.*))?", line):
            flags = re.findall(r"--[a-z0-9][a-z0-9-]*", match[1])
            flag_help.update(dict.fromkeys(flags, match[2] or ""))
        elif flags and re.fullmatch(r" {5,}\S.*", line):  # the help, under a long option
            flag_help.update({flag: f"{flag_help[flag]} {line.strip()}".strip() for flag in flags})
        elif section == "positional arguments" and (match := re.fullmatch(r"  (\S+).*", line)):
            flags = []
            followed_by_choices = i + 1 < len(lines) and lines[i + 1].startswith("    ")
            if not followed_by_choices:
                positionals.append(match[1])
        else:
            flags = []
    return Command(
        path=path,
        subcommands=tuple(subcommands),
        positionals=tuple(positionals),
        flags=frozenset(flag_help),
        flag_help=flag_help,
    )


@cache
def cli_commands() -> dict[tuple[str, ...], Command]:
    """Every command and group of the CLI, by path (``()`` is ``vidgen-db`` itself)."""
    commands: dict[tuple[str, ...], Command] = {}
    pending: list[tuple[str, ...]] = [()]
    while pending:
        path = pending.pop()
        command = parse_help(path, help_text(path))
        commands[path] = command
        pending.extend((*path, name) for name in command.subcommands)
    return commands


def leaf_commands() -> list[Command]:
    return [c for c in cli_commands().values() if c.path and not c.subcommands]


def test_the_cli_is_read_from_its_help() -> None:
    commands = cli_commands()
    assert {"migrate", "gen", "credits", "jobs", "serve"} <= set(commands[()].subcommands)
    assert commands[("gen",)].subcommands and commands[("credits",)].subcommands
    grant = commands[("credits", "grant")]
    assert grant.positionals == ("USER_ID", "AMOUNT")
    assert {"--note", "--url", "--service-key", "--help"} <= grant.flags
    assert "--version" in commands[()].flags


# -- the invocations the docs show ------------------------------------------------------------

#: Sample values for the placeholders the docs use (an elided id such as ``9a0e4b4c-...``
#: stands for a UUID).
PLACEHOLDERS = {
    "USER_ID": "3f6c2a9e-8b1d-4c5e-9f0a-1b2c3d4e5f60",
    "JOB_ID": "9a0e4b4c-1d2e-4f5a-8b6c-7d8e9f0a1b2c",
    "AMOUNT": "20",
    "N": "5",
    "DAYS": "30",
    "TEXT": "goodwill",
    "NAME": "add_invoices",
    "DIR": "out",
    "PATH": "out/file",
    "URL": "postgresql://postgres@127.0.0.1:5432/postgres",
    "KEY": "key",
}
#: A placeholder standing for any subcommand of the group before it.
ANY_SUBCOMMAND = {"ACTION", "TARGET", "COMMAND"}
_ELIDED_ID = re.compile(r"[0-9a-f]+-?\.\.\.[0-9a-f]*")
_PROGRAM = re.compile(r"(?:vidgen-db|python3? -m vidgen_db)(?=\s|$)")
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
_SHELL_BLOCKS = {"bash", "sh", "shell", "console"}
_LISTING_BLOCKS = {"text", ""}


@dataclass(frozen=True)
class Shown:
    """A ``vidgen-db`` invocation shown in a doc."""

    where: str  # doc:line
    text: str
    argv: tuple[str, ...]
    inline: bool


#: Shell operators: what follows one is not the command's argv.
_OPERATORS = {">", ">>", "<", "|", "||", "&&", ";", "&", "2>"}


def _shown(where: str, text: str, *, inline: bool) -> Shown:
    tokens = shlex.split(text, comments=True)
    for i, token in enumerate(tokens):
        if token in _OPERATORS:
            tokens = tokens[:i]
            break
    program = 1 if tokens[0] == "vidgen-db" else 3  # python -m vidgen_db
    argv = tuple(token.strip("[]") for token in tokens[program:])
    return Shown(where, text, tuple(token for token in argv if token), inline)


def shown_invocations() -> list[Shown]:
    found: list[Shown] = []
    for path in doc_paths():
        text = path.read_text(encoding="utf-8")
        for block in _FENCE.finditer(text):
            language, body = block[1], block[2]
            if language not in _SHELL_BLOCKS | _LISTING_BLOCKS:
                continue
            first_line = text.count("\n", 0, block.start(2)) + 1
            for offset, line in enumerate(body.replace("\\\n", " ").splitlines()):
                line = line.strip().removeprefix("$ ")
                if not _PROGRAM.match(line):
                    continue
                if language in _LISTING_BLOCKS:  # "vidgen-db new NAME    what it does"
                    line = re.split(r"\s{2,}", line, maxsplit=1)[0]
                found.append(_shown(f"{path.name}:{first_line + offset}", line, inline=False))
        prose = _FENCE.sub(lambda m: "\n" * m[0].count("\n"), text)
        for span in re.finditer(r"`((?:vidgen-db|python3? -m vidgen_db)(?: [^`]*)?)`", prose):
            line_no = prose.count("\n", 0, span.start()) + 1
            found.append(_shown(f"{path.name}:{line_no}", span[1], inline=True))
    return found


def _sample(token: str) -> str:
    if re.fullmatch(r"[A-Z][A-Z0-9_]*", token):
        if token not in PLACEHOLDERS:
            raise AssertionError(f"no sample value for the placeholder {token}: add one")
        return PLACEHOLDERS[token]
    if _ELIDED_ID.fullmatch(token):
        return PLACEHOLDERS["JOB_ID"]
    return token


def _parse(argv: list[str]) -> tuple[int | str | None, str, list[str]]:
    """Parse ``argv`` as ``vidgen-db`` would: (exit code or None, stderr, unrecognised)."""
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            _, extras = build_parser().parse_known_args(argv)
        except SystemExit as exited:
            return exited.code, err.getvalue(), []
    return None, err.getvalue(), extras


def problems_of(shown: Shown) -> list[str]:
    """What is wrong with an invocation the docs show (nothing: it parses)."""
    commands = cli_commands()
    command = commands[()]
    argv = list(shown.argv)
    i = 0
    while command.subcommands and i < len(argv) and not argv[i].startswith("-"):
        if argv[i] in ANY_SUBCOMMAND:
            return []  # "vidgen-db credits ACTION": the group, whatever the action
        if argv[i] not in command.subcommands:
            return [f"{command.name} has no command {argv[i]!r}"]
        command = commands[(*command.path, argv[i])]
        i += 1
    flags = [token.split("=", 1)[0] for token in argv[i:] if token.startswith("--")]
    unknown = [flag for flag in flags if flag not in command.flags]
    if unknown:
        return [f"{command.name} has no option {', '.join(unknown)}"]
    if command.subcommands and i == len(argv):
        return []  # a group named on its own ("vidgen-db gen")
    code, err, extras = _parse([_sample(token) for token in argv])
    if code not in (None, 0):
        if shown.inline and "the following arguments are required" in err:
            return []  # prose naming a command without its arguments
        return [f"does not parse: {err.strip().splitlines()[-1]}"]
    if extras:
        return [f"{command.name} does not take {' '.join(extras)}"]
    return []


def test_invocations_are_found() -> None:
    shown = shown_invocations()
    texts = {s.text for s in shown}
    assert "vidgen-db export supabase DIR" in texts  # README's listing, description cut
    assert any(s.text.startswith("vidgen-db migrate --database-url") for s in shown)
    assert any(s.inline for s in shown)
    assert any(s.text.startswith("python -m vidgen_db") for s in shown)


def test_every_invocation_shown_in_the_docs_parses() -> None:
    wrong = [
        f"{s.where}: {s.text!r}: {problem}"
        for s in shown_invocations()
        for problem in problems_of(s)
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("vidgen-db migrate --databse-url x", "has no option --databse-url"),
        ("vidgen-db gen model", "has no command 'model'"),
        ("vidgen-db demo --migrations-dir sql", "has no option --migrations-dir"),
        ("vidgen-db credits grant USER_ID lots", "does not parse"),
        ("vidgen-db jobs show JOB_ID extra", "does not take extra"),
        ("vidgen-db jobs show", "does not parse"),
    ],
)
def test_a_wrong_invocation_is_caught(text: str, problem: str) -> None:
    problems = problems_of(_shown("probe", text, inline=False))
    assert problems and problem in problems[0], problems


def test_an_inline_span_may_name_a_command_without_its_arguments() -> None:
    assert problems_of(_shown("probe", "vidgen-db credits grant", inline=True)) == []
    assert problems_of(_shown("probe", "vidgen-db credits grant", inline=False))


def test_the_readmes_cli_list_names_every_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The CLI") :]
    block = _FENCE.search(section)
    assert block is not None and block[1] == "text"
    listing = [line for line in block[2].splitlines() if line.startswith("vidgen-db ")]
    commands = cli_commands()
    missing: list[str] = []
    for name in commands[()].subcommands:
        lines = [line for line in listing if line.split()[1] == name]
        if not lines:
            missing.append(name)
            continue
        for sub in commands[(name,)].subcommands:
            words = {word.strip(",:;") for line in lines for word in line.split()}
            if sub not in words:
                missing.append(f"{name} {sub}")
    assert not missing, f"README.md's CLI list leaves out: {', '.join(missing)}"


# -- public names, commands, flags and settings are in the docs ------------------------------


def _is_error_class(value: object) -> bool:
    return isinstance(value, type) and issubclass(value, vidgen_db.VidgenDBError)


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_public_name_is_in_the_docs(module_name: str) -> None:
    module = importlib.import_module(module_name)
    # The error classes are docs/errors.md's: its own test walks the error tree and fails
    # when a class is missing there, so they are left to it.
    names = [name for name in module.__all__ if not _is_error_class(getattr(module, name))]
    missing = [name for name in names if not mentioned(name)]
    assert not missing, f"{module_name}: not in README.md or docs/: {', '.join(missing)}"


def test_every_cli_command_is_shown_in_the_docs() -> None:
    shown = [s.argv for s in shown_invocations()]
    missing = [
        command.name
        for path, command in cli_commands().items()
        if path and not any(argv[: len(path)] == path for argv in shown)
    ]
    assert not missing, f"never shown in README.md or docs/: {', '.join(missing)}"


def test_every_cli_option_is_in_the_docs() -> None:
    missing = sorted(
        {
            f"{flag} ({command.name})"
            for command in cli_commands().values()
            for flag in command.flags - {"--help"}
            if not mentioned(flag)
        }
    )
    assert not missing, f"not in README.md or docs/: {', '.join(missing)}"


def _settings_classes() -> Iterator[type[BaseSettings]]:
    pending = list(BaseSettings.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("vidgen_db"):
            yield cls


def vidgen_settings() -> set[str]:
    """Every ``VIDGEN_*`` environment variable the package reads: the fields of its settings
    models with a ``VIDGEN`` prefix, and the names its source spells out."""
    names: set[str] = set()
    for cls in _settings_classes():
        prefix = str(cls.model_config.get("env_prefix", "")).upper()
        if prefix.startswith("VIDGEN"):
            names |= {prefix + name.upper() for name in cls.model_fields}
    for path in (ROOT / "src" / "vidgen_db").rglob("*.py"):
        if "models" in path.relative_to(ROOT / "src" / "vidgen_db").parts:
            continue  # generated
        names |= set(re.findall(r"\bVIDGEN_[A-Z0-9_]*[A-Z0-9]\b", path.read_text("utf-8")))
    return names - set(INTERNAL_ENV) - {"VIDGEN_DB_"}


def test_the_settings_are_found() -> None:
    settings = vidgen_settings()
    assert {"VIDGEN_DB_TIMEOUT", "VIDGEN_DB_MAX_RETRIES", "VIDGEN_DB_DATA_DIR"} <= settings
    assert any(cls.__name__ == "ClientSettings" for cls in _settings_classes())


def test_every_vidgen_setting_is_in_the_docs() -> None:
    missing = sorted(name for name in vidgen_settings() if not mentioned(name))
    assert not missing, f"not in README.md or docs/: {', '.join(missing)}"


# -- each option does something, and says what ------------------------------------------------


def _reads(function: Callable[..., Any], seen: set[str]) -> set[str]:
    """The ``args.<name>`` a CLI function reads, itself or through the helpers it hands
    ``args`` to (``open_database(args)``, ``service_db(args)``...)."""
    if function.__qualname__ in seen:
        return set()
    seen.add(function.__qualname__)
    source = inspect.getsource(function)
    names = set(re.findall(r"\bargs\.(\w+)", source))
    names |= set(re.findall(r"getattr\(args, \"(\w+)\"", source))
    for callee in re.findall(r"\b(\w+)\(args\b", source):
        target = function.__globals__.get(callee)
        if inspect.isfunction(target):
            names |= _reads(inspect.unwrap(target), seen)
    return names


def _handler(command: Command) -> Callable[..., Any]:
    argv = [*command.path, *(_sample(p.upper()) for p in command.positionals)]
    handler: Callable[..., Any] = build_parser().parse_args(argv).handler
    return handler


@pytest.mark.parametrize("command", leaf_commands(), ids=lambda c: " ".join(c.path))
def test_every_option_is_read_by_its_command(command: Command) -> None:
    reads = _reads(_handler(command), set())
    ignored = [
        flag
        for flag in sorted(command.flags - {"--help"})
        if flag.removeprefix("--").replace("-", "_") not in reads
    ]
    assert not ignored, f"{command.name} lists options it never reads: {', '.join(ignored)}"


def test_options_nobody_reads_would_be_caught() -> None:
    def handler(args: Any) -> int:
        return int(args.port)

    assert _reads(handler, set()) == {"port"}


#: Commands whose ``--database-url`` is a server on which they create a throwaway database
#: (the others work on that very database).
ON_A_SERVER = {("gen", "models"), ("gen", "typescript"), ("gen", "docs"), ("demo",)}


@pytest.mark.parametrize(
    "command",
    [c for c in leaf_commands() if "--database-url" in c.flags],
    ids=lambda c: " ".join(c.path),
)
def test_database_url_says_what_it_is_for(command: Command) -> None:
    words = command.flag_help["--database-url"]
    assert "DATABASE_URL" in words and "embedded" in words
    if command.path in ON_A_SERVER:
        assert "server" in words and "throwaway" in words, words
    else:
        assert "throwaway" not in words, words


def test_gen_models_uses_database_url_from_the_environment(
    admin_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", admin_url)
    assert main(["gen", "models", "--output", str(tmp_path / "models")]) == 0
    assert "embedded" not in capsys.readouterr().err
    assert (tmp_path / "models" / "rpc.py").is_file()


# -- the migrated database: who may call each function, and what it raises --------------------


@dataclass(frozen=True)
class Function:
    schema: str
    name: str
    source: str
    search_path: str | None
    execute: frozenset[str]

    @property
    def key(self) -> tuple[str, str]:
        return (self.schema, self.name)


@dataclass(frozen=True)
class Trigger:
    table: tuple[str, str]
    events: frozenset[str]
    function: tuple[str, str]


@dataclass
class Catalog:
    functions: dict[tuple[str, str], Function]
    triggers: list[Trigger]

    def public(self) -> dict[str, Function]:
        return {name: f for (schema, name), f in self.functions.items() if schema == "public"}


API_ROLES = ("anon", "authenticated", "service_role")
_TRIGGER_EVENTS = {4: "INSERT", 8: "DELETE", 16: "UPDATE", 32: "TRUNCATE"}


@pytest.fixture(scope="module")
def catalog(make_database: Callable[..., str], migrated_template: str) -> Catalog:
    return read_catalog(make_database(template=migrated_template))


def read_catalog(url: str) -> Catalog:
    """The functions (with their source and who may execute them) and triggers of the
    migrated database at ``url``."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """
            SELECT n.nspname, p.proname, p.prosrc,
                   (SELECT substr(c, 13) FROM unnest(p.proconfig) AS c
                     WHERE c LIKE 'search_path=%%'),
                   array_remove(ARRAY[
                     CASE WHEN has_function_privilege('anon', p.oid, 'EXECUTE') THEN 'anon' END,
                     CASE WHEN has_function_privilege('authenticated', p.oid, 'EXECUTE')
                          THEN 'authenticated' END,
                     CASE WHEN has_function_privilege('service_role', p.oid, 'EXECUTE')
                          THEN 'service_role' END], NULL)
              FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
             WHERE n.nspname IN ('public', 'vidgen_private', 'auth') AND p.prokind = 'f'
            """
        ).fetchall()
        functions: dict[tuple[str, str], Function] = {}
        for schema, name, source, search_path, roles in rows:
            function = Function(schema, name, source, search_path, frozenset(roles))
            assert function.key not in functions, f"{schema}.{name} is overloaded: teach this test"
            functions[function.key] = function
        triggers = [
            Trigger(
                (table_schema, table),
                frozenset(event for bit, event in _TRIGGER_EVENTS.items() if tgtype & bit),
                (schema, name),
            )
            for table_schema, table, tgtype, schema, name in conn.execute(
                """
                SELECT tn.nspname, c.relname, t.tgtype, pn.nspname, p.proname
                  FROM pg_trigger AS t
                  JOIN pg_class AS c ON c.oid = t.tgrelid
                  JOIN pg_namespace AS tn ON tn.oid = c.relnamespace
                  JOIN pg_proc AS p ON p.oid = t.tgfoid
                  JOIN pg_namespace AS pn ON pn.oid = p.pronamespace
                 WHERE NOT t.tgisinternal
                """
            )
        ]
    return Catalog(functions, triggers)


def table_rows(text: str, heading: str, first_header: str) -> list[list[str]]:
    """The rows of the Markdown table under ``heading`` whose first column is
    ``first_header`` (cells stripped; the header and separator lines left out)."""
    start = text.index(f"\n{heading}\n")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end != -1 else len(text)]
    rows: list[list[str]] = []
    inside = False
    for line in section.splitlines():
        if not line.startswith("|"):
            inside = False
            continue
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if cells[0] == first_header:
            inside = True
        elif inside and not set(cells[0]) <= set("-: "):
            rows.append(cells)
    assert rows, f"no table with a {first_header!r} column under {heading!r}"
    return rows


def named_functions(cell: str, catalog: Catalog) -> list[tuple[str, str]]:
    """The catalog's functions a cell names in code spans (``name(...)``, ``name`` or
    ``schema.name(...)``)."""
    found: list[tuple[str, str]] = []
    for schema, name in re.findall(r"`(?:([a-z_]\w*)\.)?([a-z_]\w*)(?:\(|`|\s)", cell):
        key = (schema or "public", name)
        if key in catalog.functions and key not in found:
            found.append(key)
    return found


# docs/security.md


def security_table(catalog: Catalog) -> dict[tuple[str, str], set[str]]:
    """docs/security.md's function table: function -> the roles it says may call it."""
    text = (DOCS / "security.md").read_text(encoding="utf-8")
    documented: dict[tuple[str, str], set[str]] = {}
    for cells in table_rows(text, "## Functions", "Function"):
        keys = named_functions(cells[0], catalog)
        assert keys, f"security.md: the row {cells[0]!r} names no function of the database"
        roles = {role for role, cell in zip(API_ROLES, cells[1:], strict=True) if cell != "-"}
        for key in keys:
            assert key not in documented, f"security.md: {key[1]} has two rows"
            documented[key] = roles
    return documented


def test_security_md_says_who_may_call_each_function(catalog: Catalog) -> None:
    documented = security_table(catalog)
    wrong: list[str] = []
    for name, function in sorted(catalog.public().items()):
        if function.key not in documented:
            wrong.append(f"{name}: not in the table")
        elif documented[function.key] != set(function.execute):
            wrong.append(
                f"{name}: the table says {sorted(documented[function.key])}, "
                f"the database grants EXECUTE to {sorted(function.execute)}"
            )
    for key, roles in documented.items():  # functions of other schemas the table names
        if key[0] != "public" and roles != set(catalog.functions[key].execute):
            wrong.append(f"{'.'.join(key)}: the table says {sorted(roles)}")
    assert not wrong, "docs/security.md, ## Functions:\n" + "\n".join(wrong)


# docs/credits-and-jobs.md

#: Update triggers that raise only when the update sets this column (checked below:
#: the trigger returns at once when the column is unchanged).
ONLY_WHEN_SET = {("vidgen_private", "guard_job_status"): "status"}
_RAISE_CODE = re.compile(r"\b(?:ERRCODE\s*=|SQLSTATE)\s*'(\w{5})'", re.I)
_RAISE_MESSAGE_ONLY = re.compile(r"\bRAISE\s+(?:EXCEPTION\s+)?'(?:[^']|'')*'([^;]*)", re.I)
_CALL = re.compile(r"\b([a-z_]\w*)\.([a-z_]\w*)\s*\(")
_WRITE = re.compile(
    r"\b(?:(INSERT)\s+INTO|(UPDATE)|(DELETE)\s+FROM)\s+([a-z_]\w*)\.([a-z_]\w*)\b([^;]*)",
    re.I | re.S,
)


def _without_comments(source: str) -> str:
    return re.sub(r"--[^\n]*", "", source)


def direct_codes(function: Function) -> set[str]:
    """The SQLSTATEs the function's own RAISE statements use."""
    source = _without_comments(function.source)
    codes = set(_RAISE_CODE.findall(source))
    for rest in _RAISE_MESSAGE_ONLY.findall(source):
        if not _RAISE_CODE.search(rest):
            codes.add("P0001")  # RAISE EXCEPTION 'message' without an ERRCODE
    return codes


def runs(function: Function, catalog: Catalog) -> set[tuple[str, str]]:
    """The functions ``function`` runs: those it calls, and the triggers its writes fire."""
    source = _without_comments(function.source)
    found = {key for key in _CALL.findall(source) if key in catalog.functions}
    for insert, update, delete, schema, table, rest in _WRITE.findall(source):
        events: dict[str, str] = {}
        if insert:
            events["INSERT"] = ""
            if match := re.search(r"\bDO\s+UPDATE\s+SET\b(.*)", rest, re.I | re.S):
                events["UPDATE"] = match[1]
        elif update:
            events["UPDATE"] = rest
        elif delete:
            events["DELETE"] = ""
        for trigger in catalog.triggers:
            if trigger.table != (schema, table):
                continue
            for event, assignments in events.items():
                column = ONLY_WHEN_SET.get(trigger.function)
                if event not in trigger.events:
                    continue
                if event == "UPDATE" and column and not re.search(rf"\b{column}\s*=", assignments):
                    continue
                found.add(trigger.function)
    return found - {function.key}


def raisable(key: tuple[str, str], catalog: Catalog) -> set[str]:
    """Every SQLSTATE the function can raise: its own and those of what it runs, at any
    depth."""
    codes: set[str] = set()
    seen: set[tuple[str, str]] = set()
    pending = [key]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        function = catalog.functions[current]
        codes |= direct_codes(function)
        pending.extend(runs(function, catalog))
    return codes


def test_only_when_set_triggers_return_at_once_otherwise(catalog: Catalog) -> None:
    for key, column in ONLY_WHEN_SET.items():
        body = " ".join(_without_comments(catalog.functions[key].source).split())
        assert f"BEGIN IF NEW.{column} = OLD.{column} THEN RETURN NEW; END IF;" in body, key


def test_pass_through_codes_are_found(catalog: Catalog) -> None:
    queue_job = raisable(("public", "queue_job"), catalog)
    assert {"VG101", "VG201", "VG002", "VG003", "VG102", "VG103", "VG104", "40001"} <= queue_job
    assert "VG201" in raisable(("public", "start_job_step"), catalog)  # the status trigger
    assert "VG201" not in raisable(("public", "heartbeat_job"), catalog)  # no status change
    assert direct_codes(Function("public", "f", "RAISE EXCEPTION 'no; really';", "", frozenset()))
    assert direct_codes(
        Function(
            "public", "f", "RAISE EXCEPTION 'x %', 1 USING ERRCODE = 'VG999';", "", frozenset()
        )
    ) == {"VG999"}


#: A SQLSTATE or vidgen's own code in a code span (not a 5-letter word such as `READY`).
_CODE = re.compile(r"`([0-9][0-9A-Z]{4}|VG[0-9]{3}|P[0-9A-Z]{4})`")


def error_tables(catalog: Catalog) -> tuple[dict[str, str], dict[tuple[str, str], set[str]]]:
    """docs/credits-and-jobs.md's errors: code -> meaning, and function -> its codes."""
    text = (DOCS / "credits-and-jobs.md").read_text(encoding="utf-8")
    meanings = {
        cells[0].strip("`"): cells[1] for cells in table_rows(text, "## Errors", "SQLSTATE")
    }
    by_function: dict[tuple[str, str], set[str]] = {}
    for cells in table_rows(text, "## Errors", "Function"):
        keys = named_functions(cells[0], catalog)
        assert keys, f"credits-and-jobs.md: the row {cells[0]!r} names no function"
        codes = set(_CODE.findall(cells[1]))
        for key in keys:
            assert key not in by_function, f"credits-and-jobs.md: {key[1]} has two error rows"
            by_function[key] = codes
    return meanings, by_function


def test_credits_and_jobs_md_lists_what_each_function_raises(catalog: Catalog) -> None:
    meanings, by_function = error_tables(catalog)
    wrong: list[str] = []
    for key, listed in sorted(by_function.items()):
        actual = raisable(key, catalog)
        if listed - actual:
            wrong.append(f"{key[1]}: cannot raise {', '.join(sorted(listed - actual))}")
        if actual - listed:
            wrong.append(f"{key[1]}: can raise {', '.join(sorted(actual - listed))}, not listed")
    raised = set().union(*by_function.values())
    wrong += [f"{code}: no meaning given" for code in sorted(raised - set(meanings))]
    assert not wrong, "docs/credits-and-jobs.md, ## Errors:\n" + "\n".join(wrong)


def test_credits_and_jobs_md_error_table_covers_its_functions(catalog: Catalog) -> None:
    """Every function the page describes has a row in the error table, and every code in
    the table of meanings is raised by some function, or is a constraint's (class 23)."""
    text = (DOCS / "credits-and-jobs.md").read_text(encoding="utf-8")
    meanings, by_function = error_tables(catalog)
    described: set[tuple[str, str]] = set()
    for heading in re.findall(r"^## .+$", text, re.M):
        with contextlib.suppress(AssertionError):
            for cells in table_rows(text, heading, "Function"):
                if heading != "## Errors":
                    described.update(named_functions(cells[0], catalog))
    missing = sorted(name for _, name in described - set(by_function))
    assert not missing, f"no row in the error table: {', '.join(missing)}"
    everything = set().union(*(raisable(key, catalog) for key in catalog.functions))
    unused = sorted(c for c in meanings if c not in everything and not c.startswith("23"))
    assert not unused, f"no function raises {', '.join(unused)}"
