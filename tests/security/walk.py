"""Calling every route as every identity and telling what the answer means.

Each request runs in its own savepoint of one connection and is rolled back, so a DELETE or
a merge never changes the world the next request sees (only the logins are kept). What a
response means is read from its status and from the errors the app raised while answering
(a form page that catches a refusal and shows it next to the form still counts as refused):

- ``login``: 401, or the redirect to the login form (after a POST: ``/login?next=``; a
  logout also ends on the login form);
- ``forbidden``: 403, or a Forbidden raised;
- ``hidden``: 404, or a NotFound raised (out of scope answers exactly like a missing id);
- ``allowed``: anything else below 500 (a 400, 409 or 422 on a minimal body is a caller who
  passed the gate); a 5xx is ``error`` and always fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from otklik import errors

#: What non-object path parameters are when a rule does not say.
DEFAULT_PARAMS = {"fmt": "json"}
_PARAM = re.compile(r"{(\w+)(?::\w+)?}")


class Recorder:
    """Notes the app's errors raised during one request (installed on OtklikError)."""

    def __init__(self) -> None:
        self.raised: list[type[BaseException]] = []
        self._original: Any = None

    def install(self) -> None:
        original = errors.OtklikError.__init__
        recorder = self

        def init(self: errors.OtklikError, *args: Any, **kwargs: Any) -> None:
            recorder.raised.append(type(self))
            original(self, *args, **kwargs)

        self._original = original
        errors.OtklikError.__init__ = init  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self._original is not None:
            errors.OtklikError.__init__ = self._original  # type: ignore[method-assign]

    def take(self) -> list[type[BaseException]]:
        raised, self.raised = self.raised, []
        return raised


def classify(status: int, location: str, raised: list[type[BaseException]],
             method: str = "GET") -> str:
    """What a response means for access (see the module docstring)."""
    if status >= 500:
        return "error"
    to_login = location.startswith("/login?next=") or (method == "GET"
                                                       and location.startswith("/login"))
    if status == 401 or (status in (302, 303, 307) and to_login) or any(
            issubclass(e, errors.NotAuthenticated) for e in raised):
        return "login"
    if status == 403 or any(issubclass(e, errors.Forbidden) for e in raised):
        return "forbidden"
    if status == 404 or any(issubclass(e, errors.NotFound) for e in raised):
        return "hidden"
    return "allowed"


def path_params(template: str) -> list[str]:
    """The parameter names of a path template."""
    return _PARAM.findall(template)


def fill(template: str, values: dict[str, Any]) -> str:
    """The path with its parameters replaced."""
    return _PARAM.sub(lambda m: str(values[m.group(1)]), template)


# -- minimal valid bodies from the OpenAPI schema ------------------------------------------------


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def minimal(schema: dict[str, Any], spec: dict[str, Any], depth: int = 0) -> Any:
    """A small instance that satisfies ``schema``'s shape (required fields only)."""
    schema = _resolve(schema, spec)
    if depth > 6:
        return None
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if _resolve(o, spec).get("type") != "null"]
            return minimal(options[0], spec, depth + 1) if options else None
    if "allOf" in schema:
        return minimal(schema["allOf"][0], spec, depth + 1)
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {name: minimal(props[name], spec, depth + 1)
                for name in schema.get("required", []) if name in props}
    if kind == "array":
        count = schema.get("minItems", 0)
        return [minimal(schema.get("items", {}), spec, depth + 1) for _ in range(count)]
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return max(float(schema.get("minimum", 1)), 1.0)
    if kind == "boolean":
        return False
    if kind == "string":
        fmt = schema.get("format", "")
        if fmt == "date":
            return "2026-12-01"
        if fmt == "date-time":
            return "2026-12-01T09:00:00Z"
        if fmt == "email":
            return "matrix@example.org"
        if fmt in ("uri", "url"):
            return "https://example.org/matrix"
        text = "Проверка доступа по матрице"
        need = int(schema.get("minLength", 1))
        return (text * (need // len(text) + 1))[:max(need, len(text))][
            :int(schema.get("maxLength", 10_000))]
    return None


@dataclass(frozen=True)
class Body:
    """How an unsafe request carries its body."""

    json: Any = None
    form: dict[str, Any] | None = None


def body_for(method: str, path: str, spec: dict[str, Any], given: dict[str, Any] | None
             ) -> Body:
    """The body an unsafe request sends: the rule's, else a minimal valid one."""
    operation = spec.get("paths", {}).get(path, {}).get(method.lower(), {})
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        return Body(json=given if given is not None else minimal(
            content["application/json"]["schema"], spec))
    for kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
        if kind in content:
            form = given if given is not None else minimal(content[kind]["schema"], spec)
            return Body(form={k: v for k, v in (form or {}).items()
                              if isinstance(v, str | int | float)})
    if path.startswith("/api/") and given is not None:
        return Body(json=given)
    return Body(form=dict(given or {}))


def iter_unique(items: Iterator[Any]) -> list[Any]:
    """Items in order, without repeats."""
    seen: list[Any] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen
