"""The access matrix, proven route by route.

Every (method, path) the app serves must have an entry in tests/security/matrix.py (a new
route without one fails here, naming it). Then every route is called as every identity of
tests/security/world.py (each role, a user of another region and of another organization,
nobody, a narrowed API token, an integrator's key) and the answer must be what the matrix
says; scoped routes are probed with the neighbouring region's ids and a guessed one (IDOR),
including objects reached through another (an application through a contest, a message or
an extension through its case). One world per backend, each request rolled back.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.builders import PASSWORD
from tests.conftest import own_database
from tests.security import matrix as m
from tests.security.rules import MOUNTS, Rule, app_routes
from tests.security.walk import (
    DEFAULT_PARAMS,
    Recorder,
    body_for,
    classify,
    fill,
    path_params,
)
from tests.security.world import Identity, Objects, build, identities

from otklik.config import Settings, get_settings
from otklik.db.session import make_engine, reset_engine_cache

ROOT = Path(__file__).resolve().parents[2]
#: "{secret:NAME}" or "{home:NAME}" in a rule's body or query: a value of the world
_PLACEHOLDER = re.compile(r"{(secret|home):(\w+)}")
DOC = ROOT / "docs" / "access-matrix.md"
#: Draft mode (``OTKLIK_MATRIX_DRAFT=file``): write what each identity got instead of asserting.
DRAFT = os.environ.get("OTKLIK_MATRIX_DRAFT")
#: Probed for IDOR: the first of these that passes a scoped route's gate (all in Tambov).
IDOR_PROBES = ("operator", "curator", "head", "executor", "expert", "token_read")


def _app() -> Any:
    from otklik.app import create_app

    return create_app(Settings(env="test"))  # type: ignore[arg-type]


def test_every_route_has_an_entry_and_every_entry_a_route() -> None:
    """A new route fails here until the matrix says who may call it."""
    served = {(method, path) for method, path, _ in app_routes(_app()) if method != "*"}
    missing = sorted(served - set(m.MATRIX))
    stale = sorted(set(m.MATRIX) - served)
    assert not missing, (
        "routes without an access rule: add each to MATRIX in tests/security/matrix.py "
        "(and run python scripts/access_matrix.py):\n" + "\n".join(
            f'    ("{method}", "{path}"): perm("read", "region"),  # who may call it?'
            for method, path in missing))
    assert not stale, ("entries of tests/security/matrix.py whose route is gone: remove "
                       + ", ".join(f"{method} {path}" for method, path in stale))
    mounts = {path for method, path, _ in app_routes(_app()) if method == "*"}
    assert mounts <= set(MOUNTS), f"a new mount {mounts - set(MOUNTS)}: add it to MOUNTS"


def test_the_doc_is_generated_from_the_matrix() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    from access_matrix import render

    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/access-matrix.md is stale: run python scripts/access_matrix.py")


# -- the walk ----------------------------------------------------------------------------------


@dataclass
class Walk:
    """The app, its world, one client per identity, and how to call."""

    app: Any
    objects: Objects
    clients: dict[str, TestClient]
    csrf: dict[str, str]
    spec: dict[str, Any]
    recorder: Recorder
    keep: list[bool]
    #: each client's cookies after logging in, restored before every call (a logout or a
    #: flash message must not change who the next call is)
    cookies: dict[str, dict[str, str]]

    def world_value(self, value: Any) -> Any:
        """A body's or a query's value (or a form field's name) with the world's placeholders
        filled: "{secret:key_open311}" a secret, "{home:organization_id}" an id of the home
        world (the id itself when it is the whole value, else written into the text:
        "score_{home:criterion_id}")."""
        if not isinstance(value, str):
            return value
        whole = _PLACEHOLDER.fullmatch(value)
        if whole:
            return self._world(whole)
        return _PLACEHOLDER.sub(lambda m: str(self._world(m)), value)

    def _world(self, match: re.Match[str]) -> Any:
        kind, name = match.groups()
        return (self.objects.secrets if kind == "secret" else self.objects.home)[name]

    def call(self, who: Identity, method: str, template: str, rule: Rule,
             values: dict[str, Any]) -> tuple[str, int]:
        """Call the route as ``who``; (meaning, status)."""
        client = self.clients[who.name]
        path = fill(template, values)
        page = not template.startswith(("/api/", "/open311/"))
        headers = {"accept": "text/html" if page else "application/json"}
        kwargs: dict[str, Any] = {"headers": headers, "follow_redirects": False}
        if rule.query:
            kwargs["params"] = {k: self.world_value(v) for k, v in rule.query.items()}
        if method not in ("GET", "HEAD", "OPTIONS"):
            given = rule.body
            if given is not None:
                given = {self.world_value(k): self.world_value(v) for k, v in given.items()}
            body = body_for(method, template, self.spec, given)
            token = self.csrf.get(who.name, "")
            if page:
                kwargs["data"] = {**(body.form or {}), "csrf": token}
            else:
                if token:
                    headers["x-csrf-token"] = token
                if body.json is not None:
                    kwargs["json"] = body.json
                elif body.form is not None:
                    kwargs["data"] = body.form
        client.cookies.clear()
        for name, value in self.cookies.get(who.name, {}).items():
            client.cookies.set(name, value)
        self.recorder.take()
        response = client.request(method, path, **kwargs)
        meaning = classify(response.status_code, response.headers.get("location", ""),
                           self.recorder.take(), method)
        return meaning, response.status_code


own_url = own_database("security", reference=True)


@pytest.fixture(scope="module")
def walk(own_url: str) -> Iterator[Walk]:
    """The world built once per backend in an outer transaction rolled back at the end, in a
    database of its own (a route that writes through a unit of work of its own, or a driver's
    savepoint quirk, leaves nothing behind for other tests)."""
    from otklik.deps import get_session

    database_url = own_url
    engine = make_engine(own_url)
    connection = engine.connect()
    outer = connection.begin()
    keep = [False]
    patch = pytest.MonkeyPatch()
    patch.setenv("OTKLIK_DATABASE_URL", database_url)
    patch.setenv("OTKLIK_API_KEY_BURST", "100000")  # one key calls every route
    get_settings.cache_clear()
    reset_engine_cache()
    recorder = Recorder()
    try:
        with Session(bind=connection, join_transaction_mode="create_savepoint",
                     expire_on_commit=False) as session:
            objects = build(session)
            session.commit()  # into the outer transaction only
        app = _app()

        def request_session() -> Iterator[Session]:
            session = Session(bind=connection, join_transaction_mode="create_savepoint",
                              expire_on_commit=False)
            try:
                yield session
                session.flush()
                if keep[0]:
                    session.commit()
            finally:
                session.close()  # anything not kept is rolled back

        app.dependency_overrides[get_session] = request_session
        clients: dict[str, TestClient] = {}
        csrf: dict[str, str] = {}
        for who in identities():
            client = TestClient(app, raise_server_exceptions=False)
            clients[who.name] = client
            if who.token:
                client.headers["authorization"] = f"Bearer {objects.secrets[who.name]}"
            elif who.role is not None:
                keep[0] = True
                response = client.post("/api/v1/auth/login",
                                       json={"username": who.name, "password": PASSWORD})
                assert response.status_code == 200, (who.name, response.text)
                csrf[who.name] = client.get("/api/v1/auth/csrf").json()["csrf"]
                keep[0] = False
        cookies = {name: dict(client.cookies.items()) for name, client in clients.items()}
        recorder.install()
        yield Walk(app, objects, clients, csrf, app.openapi(), recorder, keep, cookies)
    finally:
        recorder.uninstall()
        outer.rollback()
        connection.close()
        engine.dispose()
        patch.undo()
        get_settings.cache_clear()
        reset_engine_cache()


def _values(rule: Rule, objects: Objects, template: str, source: dict[str, Any]
            ) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in path_params(template):
        if name in rule.params:
            values[name] = rule.params[name]
        elif name in source:
            values[name] = source[name]
        elif name in DEFAULT_PARAMS:
            values[name] = DEFAULT_PARAMS[name]
        else:
            raise AssertionError(
                f"{template}: no value for {{{name}}}: give the rule params {name}=... in "
                "tests/security/matrix.py or build such an object in tests/security/world.py")
    return values


def expected(rule: Rule, who: Identity) -> set[str]:
    """What the matrix says ``who`` gets (see walk.classify for the words)."""
    if rule.who == "public":
        # and the same for everybody (checked below); a wrong secret in the path: 404 or 403
        return {"allowed", "hidden", "forbidden"}
    if not who.logged_in:
        return {"login", "forbidden"}  # a form refuses a post without its CSRF token first
    passes = (rule.who == "any"
              or (rule.who == "user" and (who.role is not None))
              or (rule.who == "perm" and bool(who.permissions & set(
                  str(rule.permission).split("|"))))
              or (rule.who == "roles" and who.role in rule.roles))
    sees = rule.scope is None or m.sees(rule.scope, who)
    if not passes:
        # refused for the role, or not found when the object is not theirs to see either
        return {"hidden"} if rule.hides else {"forbidden"} if sees else {"forbidden", "hidden"}
    if not sees or (who.role in rule.hidden_for):
        return {"hidden"}
    return {"allowed"}


def _walkable(who: Identity, template: str) -> bool:
    """Tokens are for the API: pages and forms are walked with login sessions."""
    return not who.token or template.startswith(("/api/", "/open311/"))


def test_every_route_answers_every_identity_as_the_matrix_says(walk: Walk) -> None:
    failures: list[str] = []
    draft: list[str] = []
    for (method, template), rule in sorted(m.MATRIX.items(), key=lambda item: item[0][1]):
        values = _values(rule, walk.objects, template, walk.objects.home)
        seen: dict[str, str] = {}
        for who in identities():
            if not _walkable(who, template):
                continue
            meaning, status = walk.call(who, method, template, rule, values)
            seen[who.name] = f"{meaning}:{status}"
            want = expected(rule, who)
            if rule.unchecked:  # refused as malformed before the gate: no 5xx
                want = want if not who.logged_in or rule.who == "public" else {
                    "allowed", "forbidden", "hidden"}
            if meaning not in want and not (rule.unchecked and status == 422):
                failures.append(f"{method} {template} as {who.name} ({who.about}): got "
                                f"{status} ({meaning}), the matrix says "
                                f"{' or '.join(sorted(want))}")
        if rule.who == "public" and len({s.split(":")[0] for s in seen.values()}) > 1:
            failures.append(f"{method} {template} is public but answers differently: {seen}")
        draft.append(f"{method} {template} " + " ".join(f"{k}={v}" for k, v in seen.items()))
    if DRAFT:
        Path(DRAFT).write_text("\n".join(draft) + "\n", encoding="utf-8")
    assert not failures, f"{len(failures)} answers differ from the matrix:\n" + "\n".join(
        failures)


def test_neighbouring_and_guessed_ids_are_not_found(walk: Walk) -> None:
    """IDOR: on every scoped route, a Tambov user who passes the gate asking for Samara's
    object (or a never-used id) gets 404; with two objects in the path, each is swapped
    alone (an application of Samara through a Tambov contest)."""
    failures: list[str] = []
    probed = 0
    by_name = {who.name: who for who in identities()}
    for (method, template), rule in sorted(m.MATRIX.items(), key=lambda item: item[0][1]):
        if rule.scope is None or rule.unchecked:
            continue
        prober = next((by_name[n] for n in IDOR_PROBES
                       if expected(rule, by_name[n]) == {"allowed"}
                       and _walkable(by_name[n], template)), None)
        if prober is None:
            continue
        home = _values(rule, walk.objects, template, walk.objects.home)
        for name in path_params(template):
            if name in rule.params or name not in walk.objects.missing:
                continue
            for label, source in (("Samara's", walk.objects.neighbour),
                                  ("a guessed", walk.objects.missing)):
                if name not in source:
                    continue
                probed += 1
                meaning, status = walk.call(prober, method, template, rule,
                                            {**home, name: source[name]})
                if meaning != "hidden":
                    failures.append(f"{method} {template} as {prober.name} with {label} "
                                    f"{name}={source[name]}: got {status} ({meaning}), "
                                    "expected 404")
    assert probed > 50
    assert not failures, "\n".join(failures)
