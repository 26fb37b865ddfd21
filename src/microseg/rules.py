"""The segment catalogue checked before dbt starts: rules are expressions, not SQL.

The catalogue is CATALOGUE_FILE (the `meta` of int_segment_catalogue_rendered), or the var
`microseg__segment_catalogue` when given, as in dbt (macros/segments/segment_catalogue.sql).
A rule is one boolean expression over the person columns (the documented columns of
int_person_features and int_persons_scored, plus `is_lookalike_<key>` per lookalike),
literals, the operators below and the functions in FUNCTIONS. It is read with sqlglot as
DuckDB and as Snowflake SQL and must pass as both. Keys, parents, origins and the numeric
settings are checked too. macros/segments/check_segment_catalogue.sql holds the same checks
for plain `dbt build`; keep the two lists of functions, keywords and type names alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeGuard

import sqlglot
import yaml
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from microseg.dbt_project import project_dir, project_vars


class CatalogueError(ValueError):
    """The segment catalogue is refused; the message names the segment and the reason."""


KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,62}")
OWNER_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@ -]{0,62}")
NUMBER_PATTERN = re.compile(r"[0-9]+(\.[0-9]+)?")
CHANNELS = ("email", "ads", "crm")
# Never in a rule, not even inside a string literal (escapes, Jinja, statement ends).
FORBIDDEN_CHARACTERS = (";", "\\", "$", "{", "}")
FUNCTIONS = frozenset(
    {"coalesce", "nullif", "least", "greatest", "abs", "round", "floor", "ceil",
     "lower", "upper", "length", "trim"}
)  # fmt: skip
KEYWORDS = frozenset(
    {"and", "or", "not", "is", "null", "in", "between", "like", "ilike", "true", "false",
     "case", "when", "then", "else", "end", "cast", "as"}
)  # fmt: skip
TYPE_NAMES = frozenset(
    {"integer", "int", "bigint", "double", "decimal", "varchar", "boolean", "date", "timestamp"}
)
# The models whose documented columns rules may read (their one home: the models' YAML).
COLUMN_MODELS = ("int_person_features", "int_persons_scored")
# The catalogue's one home, and the model whose `meta` it is.
CATALOGUE_FILE = Path("models/intermediate/segments/_int_segments__catalogue.yml")
CATALOGUE_MODEL = "int_segment_catalogue_rendered"
CATALOGUE_VAR = "microseg__segment_catalogue"
ORIGINS = ("rule", "rfm", "cluster", "lookalike")

_OPERATORS = {
    TokenType.L_PAREN, TokenType.R_PAREN, TokenType.COMMA, TokenType.EQ, TokenType.NEQ,
    TokenType.GT, TokenType.GTE, TokenType.LT, TokenType.LTE, TokenType.PLUS, TokenType.DASH,
    TokenType.STAR, TokenType.SLASH, TokenType.MOD,
}  # fmt: skip
_FUNCTION_NODES = {
    exp.Coalesce, exp.Nullif, exp.Least, exp.Greatest, exp.Abs, exp.Round, exp.Floor,
    exp.Ceil, exp.Lower, exp.Upper, exp.Length, exp.Trim,
}  # fmt: skip
_PREDICATES: set[type[exp.Expression]] = {
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Is, exp.In, exp.Between,
    exp.Like, exp.ILike, exp.And, exp.Or, exp.Not, exp.Boolean,
}  # fmt: skip
_NODES = {
    *_PREDICATES, *_FUNCTION_NODES, exp.Column, exp.Identifier, exp.Literal, exp.Null,
    exp.Paren, exp.Neg, exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.Case, exp.If,
    exp.Cast, exp.DataType, exp.DataTypeParam,
}  # fmt: skip
_DIALECTS = ("duckdb", "snowflake")


def _refuse(key: object, message: str) -> CatalogueError:
    return CatalogueError(f"segment '{key}': {message}")


def check_rule(key: object, rule: object, columns: Mapping[str, str]) -> None:
    """Raise CatalogueError unless `rule` is one boolean expression over `columns`.

    `columns` maps each readable column (lowercase) to its documented data type.
    """
    if not isinstance(rule, str) or not rule.strip():
        raise _refuse(key, "rule must be a non-empty string")
    for character in FORBIDDEN_CHARACTERS:
        if character in rule:
            raise _refuse(key, f"'{character}' is not allowed in a rule")
    for dialect in _DIALECTS:
        _check_tokens(key, rule, columns, dialect)
        try:
            trees = sqlglot.parse(rule, read=dialect)
        except ParseError as error:
            found = error.errors[0].get("highlight") if error.errors else None
            raise _refuse(key, f"rule is not one expression (at '{found or rule}')") from None
        tree = trees[0] if len(trees) == 1 else None
        if not isinstance(tree, exp.Expression):
            raise _refuse(key, "rule must be exactly one expression")
        _check_tree(key, tree, columns, dialect)
        if not _is_boolean(tree, columns):
            raise _refuse(key, f"rule is not a boolean expression ('{rule.strip()}')")


def _check_tokens(key: object, rule: str, columns: Mapping[str, str], dialect: str) -> None:
    try:
        tokens = sqlglot.tokenize(rule, read=dialect)
    except TokenError:
        raise _refuse(key, "rule has a quote that does not close (')") from None
    depth = 0
    for position, token in enumerate(tokens):
        if token.comments:
            marker = next((m for m in ("--", "/*", "//") if m in rule), "comment")
            raise _refuse(key, f"comments ('{marker}') are not allowed in a rule")
        kind, text, word = token.token_type, token.text, token.text.lower()
        following = tokens[position + 1] if position + 1 < len(tokens) else None
        call = following is not None and following.token_type is TokenType.L_PAREN
        after_as = position > 0 and tokens[position - 1].text.lower() == "as"
        if word == "as" and (following is None or following.text.lower() not in TYPE_NAMES):
            found = following.text if following is not None else ""
            raise _refuse(key, f"'{found}' is not a type a rule may cast to")
        if (word in TYPE_NAMES) != after_as:
            raise _refuse(key, f"'{text}' is not allowed in a rule (only in cast(... as <type>))")
        if kind is TokenType.STRING:
            continue
        if kind is TokenType.NUMBER:
            if not NUMBER_PATTERN.fullmatch(text):
                raise _refuse(key, f"'{text}' is not allowed in a rule")
            continue
        if kind in _OPERATORS and text != "==":
            depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(kind, 0)
            if depth < 0:
                raise _refuse(key, "')' closes a parenthesis the rule did not open")
            continue
        if word in FUNCTIONS | KEYWORDS | TYPE_NAMES:
            continue
        if kind is TokenType.IDENTIFIER:
            raise _refuse(key, f"'\"{text}\"' is not allowed in a rule (quoted name)")
        if kind is not TokenType.VAR or not KEY_PATTERN.fullmatch(word):
            raise _refuse(key, f"'{text}' is not allowed in a rule")
        if call:
            allowed = ", ".join(sorted(FUNCTIONS))
            raise _refuse(key, f"function '{text}' is not allowed in a rule (allowed: {allowed})")
        if word not in columns:
            raise _refuse(key, f"unknown column '{text}' in rule")
    if depth:
        raise _refuse(key, "'(' is never closed in the rule")


def _check_tree(
    key: object, tree: exp.Expression, columns: Mapping[str, str], dialect: str
) -> None:
    for node in tree.walk():
        if type(node) not in _NODES:
            if isinstance(node, exp.Func):
                name = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
                raise _refuse(key, f"function '{name.lower()}' is not allowed in a rule")
            raise _refuse(key, f"'{node.sql(dialect)}' is not allowed in a rule")
        if isinstance(node, exp.Column):
            name = node.this
            if node.table or not isinstance(name, exp.Identifier) or name.quoted:
                raise _refuse(key, f"'{node.sql(dialect)}' is not allowed in a rule")
            if name.name.lower() not in columns:
                raise _refuse(key, f"unknown column '{name.name}' in rule")
        if isinstance(node, exp.In):
            listed = node.expressions
            if any(node.args.get(arg) for arg in ("query", "unnest", "field")) or not all(
                isinstance(item, exp.Literal | exp.Boolean | exp.Null)
                or (isinstance(item, exp.Neg) and isinstance(item.this, exp.Literal))
                for item in listed
            ):
                raise _refuse(key, "in (...) takes a list of literals only")


def _is_boolean(node: exp.Expression, columns: Mapping[str, str]) -> bool:
    if type(node) in _PREDICATES:
        return True
    if isinstance(node, exp.Paren):
        return _is_boolean(node.this, columns)
    if isinstance(node, exp.Column):
        return columns.get(node.name.lower()) == "boolean"
    if type(node) is exp.Cast:
        return node.to.this is exp.DataType.Type.BOOLEAN
    if isinstance(node, exp.Coalesce):
        return all(_is_boolean(part, columns) for part in [node.this, *node.expressions])
    if isinstance(node, exp.Case):
        results = [branch.args["true"] for branch in node.args.get("ifs") or []]
        default = node.args.get("default")
        results += [default] if default is not None else []
        return all(_is_boolean(part, columns) for part in results)
    return False


def _key(value: object, what: str) -> str:
    if not isinstance(value, str) or not KEY_PATTERN.fullmatch(value):
        raise CatalogueError(
            f"{what} '{value}': a key must match ^[a-z][a-z0-9_]{{0,62}}$ "
            "(a lowercase letter, then lowercase letters, digits or _)"
        )
    return value


def _number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _integer(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _plain(value: object) -> bool:
    return isinstance(value, str) and "\\" not in value


def _default(entry: Mapping[str, Any], field: str, fallback: object) -> object:
    return fallback if entry.get(field) is None else entry[field]


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise CatalogueError(f"{what} {value!r} is not a mapping")
    return value


def shipped_catalogue(root: Path) -> list[Any]:
    """The entries of CATALOGUE_FILE in the project at `root`, as written."""
    document = yaml.safe_load((root / CATALOGUE_FILE).read_text()) or {}
    for model in document.get("models") or []:
        if model.get("name") == CATALOGUE_MODEL:
            return list(((model.get("config") or {}).get("meta") or {}).get("segments") or [])
    raise CatalogueError(f"{CATALOGUE_FILE} has no model {CATALOGUE_MODEL} with a meta.segments")


def _origin_rule(entry: Mapping[str, Any]) -> str | None:
    """The rule an rfm, cluster or lookalike entry must have, from its own fields (checked:
    they reach SQL too); None for a rule segment (segment_origin_rule in
    macros/segments/segment_catalogue.sql). A lookalike takes top_n, or else top_percent."""
    origin = entry.get("origin")
    if origin == "rule":
        return None
    if origin == "rfm":
        rfm_class = _key(entry.get("rfm_class"), "RFM class")
        for bound in (entry.get("r"), entry.get("fm")):
            if not (
                isinstance(bound, list) and len(bound) == 2 and all(map(_integer, bound))
                and 1 <= bound[0] <= bound[1] <= 5
            ):  # fmt: skip
                raise CatalogueError(
                    f"RFM class '{rfm_class}': r and fm must be [low, high] in 1-5"
                )
        return f"rfm_class = '{rfm_class}'"
    if origin == "cluster":
        return f"cluster_label = '{_key(entry.get('cluster_label'), 'cluster label')}'"
    if origin == "lookalike":
        key = _key(entry.get("key"), "lookalike")
        _key(entry.get("seed_segment"), f"lookalike '{key}': seed_segment")
        top_n, top_percent = entry.get("top_n"), entry.get("top_percent")
        if top_n is not None and (not _integer(top_n) or top_n < 1):
            raise _refuse(key, f"top_n {top_n!r} is not an integer >= 1")
        if top_n is None and (not _number(top_percent) or not 0 < top_percent <= 100):
            raise _refuse(key, f"top_percent {top_percent!r} is not a number in (0, 100]")
        return f"is_lookalike_{key}"
    raise _refuse(entry.get("key"), f"origin '{origin}' is not one of {', '.join(ORIGINS)}")


def catalogue_entries(
    variables: Mapping[str, Any], root: Path | None = None
) -> list[dict[str, Any]]:
    """The catalogue dbt builds: the var microseg__segment_catalogue when given, else the
    shipped file of the project at `root` (default project_dir()); each origin's fields
    checked against its rule, defaults not filled."""
    given = variables.get(CATALOGUE_VAR)
    if given is None:
        given = shipped_catalogue(root or project_dir())
    if not isinstance(given, list):
        raise CatalogueError(f"{CATALOGUE_VAR} must be a list of segments")
    entries = [dict(_mapping(entry, "segment")) for entry in given]
    for entry in entries:
        expected = _origin_rule(entry)
        if expected is not None and entry.get("rule") != expected:
            raise _refuse(
                entry.get("key"), f"its origin is {entry['origin']}, so its rule must be {expected}"
            )
    return entries


def segments_of(entries: Iterable[Mapping[str, Any]], *origins: str) -> list[dict[str, Any]]:
    """The entries of the given origins, in catalogue order."""
    return [dict(entry) for entry in entries if entry.get("origin") in origins]


def check_catalogue(
    variables: Mapping[str, Any], columns: Mapping[str, str], root: Path | None = None
) -> None:
    """Raise CatalogueError naming the first segment whose settings or rule are refused."""
    entries = catalogue_entries(variables, root)
    for entry in entries:
        for field in ("key", "name", "description", "rule", "priority", "owner", "channels"):
            if entry.get(field) is None:
                raise _refuse(entry.get("key"), f"has no {field}")
        _key(entry["key"], "segment")
    keys = [entry["key"] for entry in entries]
    by_key = {entry["key"]: entry for entry in entries}
    priorities = [entry["priority"] for entry in entries]
    for entry in entries:
        key = entry["key"]
        if keys.count(key) > 1:
            raise CatalogueError(f"segment key '{key}' is used twice")
        for field in ("name", "description"):
            if not _plain(entry[field]):
                raise _refuse(key, f"{field} must be a string without backslashes")
        if not isinstance(entry["owner"], str) or not OWNER_PATTERN.fullmatch(entry["owner"]):
            raise _refuse(key, "owner must be letters, digits, space, _ . @ or - (at most 63)")
        if not _integer(entry["priority"]):
            raise _refuse(key, f"priority {entry['priority']!r} is not an integer")
        if priorities.count(entry["priority"]) > 1:
            raise _refuse(key, f"priority {entry['priority']} is used twice")
        parent, seen = entry.get("parent"), [key]
        while parent is not None:
            if not isinstance(parent, str) or parent not in by_key:
                raise _refuse(key, f"unknown parent '{parent}'")
            if parent in seen:
                raise _refuse(key, f"parents loop back ({' -> '.join([*seen, parent])})")
            seen.append(parent)
            parent = by_key[parent].get("parent")
        channels = entry["channels"]
        if not isinstance(channels, list):
            raise _refuse(key, "channels must be a list")
        for channel in channels:
            if channel not in CHANNELS:
                raise _refuse(key, f"unknown channel '{channel}' (known: {', '.join(CHANNELS)})")
        min_size = _default(entry, "min_size", variables.get("microseg__min_segment_size"))
        if not _integer(min_size) or min_size < 1:
            raise _refuse(key, f"min_size {min_size!r} is not an integer >= 1")
        max_share = _default(entry, "max_share", variables.get("microseg__max_segment_share"))
        if not _number(max_share) or not 0 < max_share <= 1:
            raise _refuse(key, f"max_share {max_share!r} is not a number in (0, 1]")
        minimum = _default(entry, "min_interactions", variables.get("microseg__min_interactions"))
        if not _integer(minimum) or minimum < 0:
            raise _refuse(key, f"min_interactions {minimum!r} is not an integer >= 0")
        holdout = _default(entry, "holdout_percent", variables.get("microseg__holdout_percent"))
        if not _number(holdout) or not 0 <= holdout <= 50:
            raise _refuse(key, f"holdout_percent {holdout!r} is not a number in [0, 50]")
        check_rule(key, entry["rule"], columns)


def person_columns(root: Path, lookalike_keys: Iterable[str]) -> dict[str, str]:
    """Column -> documented data type of COLUMN_MODELS, plus one flag per lookalike."""
    project = yaml.safe_load((root / "dbt_project.yml").read_text())
    columns: dict[str, str] = {}
    found: set[str] = set()
    for folder in project.get("model-paths", ["models"]):
        for path in sorted((root / folder).rglob("*.y*ml")):
            text = path.read_text()
            if not any(model in text for model in COLUMN_MODELS):
                continue
            for model in (yaml.safe_load(text) or {}).get("models") or []:
                if model.get("name") in COLUMN_MODELS:
                    found.add(model["name"])
                    for column in model.get("columns") or []:
                        columns[column["name"].lower()] = str(column.get("data_type", "")).lower()
    if missing := set(COLUMN_MODELS) - found:
        raise CatalogueError(f"no YAML documentation found for {', '.join(sorted(missing))}")
    return columns | {f"is_lookalike_{key}": "boolean" for key in lookalike_keys}


def effective_vars(root: Path, cli_vars: Mapping[str, Any]) -> dict[str, Any]:
    """dbt_project.yml vars overridden by the `--vars` given to dbt (whole values, as dbt)."""
    return {**project_vars(root), **cli_vars}


def check_project(root: Path, cli_vars: Mapping[str, Any]) -> None:
    """Refuse the catalogue dbt would build in `root` with `cli_vars` (CatalogueError)."""
    variables = effective_vars(root, cli_vars)
    entries = catalogue_entries(variables, root)
    lookalikes = [entry["key"] for entry in segments_of(entries, "lookalike")]
    check_catalogue(variables, person_columns(root, lookalikes), root)
