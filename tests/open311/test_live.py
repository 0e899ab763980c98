"""Against a running Otklik (uvicorn on 127.0.0.1, its own committed database): a request
filed by form POST is enriched, becomes a case in the operator queue; the third-party
``georeport`` client (PyPI) lists services, reads a definition and reads requests by id and
by filter in JSON and XML; when the case is answered and closed it reads ``closed`` with the
answer in ``status_notes``. Every JSON body validates against the schemas written from the
spec's field tables (src/otklik/open311/schemas/)."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from georeport import GeoReport
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from tests.builders import make_user
from tests.conftest import _load_reference, jobs_database, own_database
from tests.media.test_photos import jpeg_with_gps
from tests.open311.spec import valid

import otklik.consumers  # noqa: F401  (the consumers' queues exist before drain)
from otklik.accounts import apikeys
from otklik.accounts.service import actor_for
from otklik.audit.actor import Actor
from otklik.cases import answers, service
from otklik.config import get_settings
from otklik.models.account import Role
from otklik.models.case import Case
from otklik.models.organization import Organization, OrganizationKind
from otklik.queue import drain
from otklik.web import workspace_queries as wq

own_url = own_database("open311_live")
TEXT = ("На путепроводе по улице Лаврова в Мичуринске огромные ямы, машины бьют колёса. "
        "Когда отремонтируют дорогу?")
ANSWER = ("Ямочный ремонт покрытия путепровода на улице Лаврова выполнен 12 декабря. "
          "Капитальный ремонт включён в программу 2027 года. Администрация Мичуринска.")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(own_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
           ) -> Iterator[tuple[str, Engine]]:
    import uvicorn

    from otklik.app import create_app

    monkeypatch.setenv("OTKLIK_MEDIA_DIR", str(tmp_path))
    with jobs_database(own_url, monkeypatch) as engine:
        _load_reference(engine)
        port = _free_port()
        app = create_app(get_settings())
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                               log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "the Otklik server did not start"
        try:
            yield f"http://127.0.0.1:{port}", engine
        finally:
            server.should_exit = True
            thread.join(timeout=10)


def test_filed_answered_closed_read_by_a_georeport_client(server: tuple[str, Engine]) -> None:
    base, engine = server
    root = f"{base}/open311/v2"
    with Session(engine) as session:
        _, key = apikeys.create_key(session, Actor.system("tests"), scopes=["open311"],
                                    name="Городское приложение", region="Тамбовская область")
        operator = make_user(session, Role.operator, ["68"])
        # A regional body covers every territory of the region, wherever the text was placed.
        org = session.query(Organization).filter(
            Organization.region_code == "68",
            Organization.kind == OrganizationKind.ministry).order_by(Organization.id).first()
        assert org is not None
        executor = make_user(session, Role.executor, ["68"], organization_id=org.id)
        session.commit()
        operator_id, executor_id, org_id = operator.id, executor.id, org.id

    with httpx.Client(base_url=root, timeout=30) as http:
        valid("discovery", http.get("/discovery.json").json())
        filed = http.post("/requests.json", data={
            "api_key": key, "service_code": "roads", "description": TEXT,
            "lat": "52.8978", "long": "40.4907", "email": "resident@example.org",
            "first_name": "Анна", "last_name": "Смирнова", "phone": "+7 910 555-44-33",
            "device_id": "phone-42", "attribute[subtopic]": "roads.potholes"},
            files=[("media", ("pit.jpg", jpeg_with_gps(), "image/jpeg"))])
        assert filed.status_code == 200, filed.text
        token = valid("post_response", filed.json())[0]["token"]
        assert valid("tokens", http.get(f"/tokens/{token}.json").json()
                     )[0]["service_request_id"] == ""
        drain()  # enrichment, then the case (the consumers of MessagesEnriched)
        case_id = int(valid("tokens", http.get(f"/tokens/{token}.json").json()
                            )[0]["service_request_id"])

    with Session(engine) as session:
        operator_actor = actor_for(session, session.get(type(operator), operator_id))
        queue = wq.queue(session, operator_actor.scope, wq.QueueFilter(source="open311"),
                         datetime_now(), limit=50)
        assert case_id in [c.id for c in queue.rows]  # in the operator queue
        case = session.get(Case, case_id)
        assert case is not None and case.region_code == "68"
        executor_actor = actor_for(session, session.get(type(operator), executor_id))
        service.route(session, operator_actor, case, org_id)
        session.commit()

    client = GeoReport(root, jurisdiction="68")
    xml_client = GeoReport(root, jurisdiction="68", output_format="xml")
    services = valid("services", client.get_service_list())
    assert {"roads", "roads.potholes"} <= {s["service_code"] for s in services}
    assert [s["service_code"] for s in xml_client.get_service_list()] == \
        [s["service_code"] for s in services]
    definition = valid("service_definition", client.get_service_definition("roads"))
    assert definition["attributes"][0]["code"] == "subtopic"
    xml_definition = xml_client.get_service_definition("roads")
    assert xml_definition["attributes"]["attribute"]["datatype"] == "singlevaluelist"
    one = client.get_service_request(str(case_id))
    valid("service_requests", [one])
    assert one["status"] == "open" and one["media_url"].startswith(base + "/media/photos/")
    assert (one["lat"], one["long"]) == (52.9, 40.49)  # the filed point, to ~1 km
    photo = httpx.get(one["media_url"])
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    body = json.dumps(one, ensure_ascii=False)
    for secret in ("resident@example.org", "Смирнова", "910 555", "phone-42"):
        assert secret not in body  # the reporter's personal data never leaves

    with Session(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        executor_actor = actor_for(session, session.get(type(operator), executor_id))
        operator_actor = actor_for(session, session.get(type(operator), operator_id))
        service.accept(session, executor_actor, case)
        answers.draft(session, executor_actor, case, ANSWER)
        answers.submit(session, executor_actor, case)
        answers.approve(session, operator_actor, case)
        service.close(session, operator_actor, case)
        session.commit()

    closed = client.get_service_request(str(case_id))
    assert closed["status"] == "closed" and closed["status_notes"] == ANSWER
    assert xml_client.get_service_request(str(case_id))["status"] == "closed"
    by_filter = valid("service_requests", client.get_service_requests(
        status="closed", service_code=one["service_code"]))
    [listed] = [r for r in by_filter if r["service_request_id"] == str(case_id)]
    assert listed["media_url"] == one["media_url"]  # a full URL in lists too
    since = (datetime_now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    xml_filtered = xml_client.get_service_requests(
        status="closed", service_code=f"{one['service_code']},roads.bridges",
        start_date=since)
    xml_filtered = xml_filtered if isinstance(xml_filtered, list) else [xml_filtered]
    assert str(case_id) in [r["service_request_id"] for r in xml_filtered]
    assert client.get_service_requests(status="open", service_code="roads.bridges") == []
    assert client.get_service_requests(end_date=since) == []  # filed after it
    by_ids = xml_client.get_service_requests(service_request_id=f"{case_id},999999")
    by_ids = by_ids if isinstance(by_ids, list) else [by_ids]
    assert [r["service_request_id"] for r in by_ids] == [str(case_id)]
    assert by_ids[0]["status_notes"] == ANSWER
    errors = httpx.get(f"{root}/requests.json", params={"page_size": "many"})
    assert errors.status_code == 400 and valid("errors", errors.json())
    assert os.environ.get("OTKLIK_MEDIA_DIR")


def datetime_now() -> Any:
    from otklik.db.base import utcnow

    return utcnow()
