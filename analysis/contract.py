"""The result contract: every file of a result directory checked against its JSON Schema
(schemas/*.schema.json, documented in schemas/README.md). loader.py calls validate_file() on
each file it reads, so a result that breaks the contract is refused with the file and the JSON
path of the first violation, before any number of it is used.

Schemas refer to one another by their $id (https://scxlab.invalid/schemas/<file>); they are
resolved from the repository's schemas/ folder, never fetched.

Legacy forms that older runners wrote (e.g. 0 instead of null in summary.json) are subschemas
marked "deprecated": true. Loading accepts them, so the results kept under paper/results/ still
load; strict validation (strict=True, what the tests use on freshly written results) refuses
them, so a runner that writes one again fails its tests.
"""
import configparser
import functools
import json
import re
from pathlib import Path

from . import AnalysisError

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas"
KINDS = ("manifest", "summary", "run", "metrics", "plan")


def schema_path(kind):
    return SCHEMA_DIR / f"{kind}.schema.json"


@functools.lru_cache(maxsize=None)
def _validators():
    try:
        import jsonschema
        import jsonschema.exceptions
        import jsonschema.validators
    except ImportError:
        raise AnalysisError("python3-jsonschema is not installed: results cannot be checked against "
                            "schemas/ (apt-get install python3-jsonschema, or run `make setup`)") from None
    schemas = {}
    for kind in KINDS:
        try:
            schemas[kind] = json.loads(schema_path(kind).read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise AnalysisError(f"{schema_path(kind)}: cannot read the schema: {e}") from None
    # referenced schemas without "$schema": with it, jsonschema would check them with its own
    # Draft202012Validator instead of the (strict) class that follows the $ref
    store = {s["$id"]: {k: v for k, v in s.items() if k != "$schema"} for s in schemas.values()}

    def refuse_legacy(validator, value, instance, schema):
        if value:
            yield jsonschema.exceptions.ValidationError(
                f"a legacy form, refused in a fresh result: {schema.get('description', '(see the schema)')}")

    strict_cls = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"deprecated": refuse_legacy})
    out = {}
    for kind, s in schemas.items():
        for strict, cls in ((False, jsonschema.Draft202012Validator), (True, strict_cls)):
            resolver = jsonschema.RefResolver(base_uri=s["$id"], referrer=s, store=store)
            out[kind, strict] = cls(s, resolver=resolver)
    return out


def violations(doc, kind, strict=False):
    """Every way doc breaks the schema of kind, as (JSON path, message), most relevant first."""
    validator = _validators()[kind, strict]
    import jsonschema.exceptions
    errors = list(validator.iter_errors(doc))
    if not errors:
        return []
    first = jsonschema.exceptions.best_match(errors)
    ordered = [first] + [e for e in errors if e is not first]
    return [(json_path(e.absolute_path), e.message) for e in ordered]


def json_path(parts):
    """$.a.b[0], with ['...'] for keys that are not plain words (plan sections such as run.2)."""
    out = "$"
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif re.fullmatch(r"[\w-]+", p):
            out += f".{p}"
        else:
            out += "[" + repr(p) + "]"
    return out


def validate(doc, kind, where, strict=False):
    """Raises AnalysisError naming where (the file) and the JSON path of the violation."""
    found = violations(doc, kind, strict)
    if found:
        path, message = found[0]
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise AnalysisError(f"{where}: breaks the result contract ({schema_path(kind).name}) at {path}: "
                            f"{message}{more}")


def read_ini(path, what):
    """An ini file as scxlab's C side reads it ({section: {key: value}}, keys keep their case,
    values raw strings); an unreadable or malformed one is an AnalysisError naming what it is."""
    cp = configparser.ConfigParser(interpolation=None, strict=True, delimiters=("=",),
                                   comment_prefixes=(";", "#"), inline_comment_prefixes=None,
                                   empty_lines_in_values=False, default_section="\x00none")
    cp.optionxform = str  # keys keep their case
    try:
        with open(path) as f:
            cp.read_file(f)
    except (OSError, configparser.Error) as e:
        raise AnalysisError(f"{path}: not a readable {what}: {e}") from None
    return {s: dict(cp.items(s, raw=True)) for s in cp.sections()}


def read_plan(path):
    """raw/plan.ini as {section: {key: value}}, every value a string (what plan.schema.json checks)."""
    return read_ini(path, "plan")


def validate_file(path, kind, doc=None, strict=False):
    """Checks one file of a result (its parsed doc when already read) against its schema."""
    if doc is None:
        if kind == "plan":
            doc = read_plan(path)
        else:
            try:
                doc = json.loads(Path(path).read_text())
            except (OSError, json.JSONDecodeError) as e:
                raise AnalysisError(f"{path}: not readable JSON ({kind}): {e}") from None
    validate(doc, kind, path, strict)
    return doc
