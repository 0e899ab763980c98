"""The webhook payloads' schema is stable: every field published in the OpenAPI
(``/api/openapi.json``, section ``webhooks``) as of payload_contract.json is still there, of the
same type, and still required where it was. Fields may be added (receivers ignore what they do
not know); removing, renaming, retyping a field or making it optional breaks the receivers
and fails here. After a deliberate, announced break: regenerate payload_contract.json
(``OTKLIK_WEBHOOK_CONTRACT_WRITE=1``) and say so in docs/webhooks.md."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from otklik.app import create_app

CONTRACT = Path(__file__).with_name("payload_contract.json")


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _kind(spec: dict[str, Any], node: dict[str, Any]) -> str:
    node = _resolve(spec, node)
    if "anyOf" in node:
        return "|".join(sorted(_kind(spec, n) for n in node["anyOf"]))
    if "const" in node:
        return f"const {node['const']}"
    text = str(node.get("type", "object"))
    return f"{text} {node['format']}" if "format" in node else text


def _fields(spec: dict[str, Any], node: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Every leaf field of a payload schema: ``data.id`` -> ``integer required``."""
    node = _resolve(spec, node)
    required = set(node.get("required", []))
    out: dict[str, str] = {}
    for name, child in node.get("properties", {}).items():
        target = _resolve(spec, child)
        if target.get("properties"):
            out.update(_fields(spec, target, f"{prefix}{name}."))
        else:
            out[prefix + name] = _kind(spec, child) + (" required" if name in required else "")
    return out


def published() -> dict[str, dict[str, str]]:
    """The payload fields of every webhook event, as the OpenAPI publishes them."""
    spec = create_app().openapi()
    return {name: _fields(spec, item["post"]["requestBody"]["content"]["application/json"]
                          ["schema"]) for name, item in spec["webhooks"].items()}


def breaks(contract: dict[str, dict[str, str]], now: dict[str, dict[str, str]]) -> list[str]:
    """What in ``now`` breaks a receiver written against ``contract``."""
    found = [f"{event}: no longer published" for event in contract if event not in now]
    for event, fields in contract.items():
        for name, was in fields.items():
            kind = now.get(event, {}).get(name)
            if event not in now:
                continue
            if kind is None:
                found.append(f"{event}: {name} removed")
            elif kind.removesuffix(" required") != was.removesuffix(" required"):
                found.append(f"{event}: {name} was {was}, now {kind}")
            elif was.endswith(" required") and not kind.endswith(" required"):
                found.append(f"{event}: {name} is no longer required")
    return found


def _contract() -> dict[str, dict[str, str]]:
    return dict(json.loads(CONTRACT.read_text(encoding="utf-8")))


def test_the_published_payloads_keep_every_field_of_the_contract() -> None:
    now = published()
    if os.environ.get("OTKLIK_WEBHOOK_CONTRACT_WRITE") == "1":
        CONTRACT.write_text(json.dumps(now, indent=1, ensure_ascii=False) + "\n",
                            encoding="utf-8")
    contract = _contract()
    assert breaks(contract, now) == []
    assert {"case.created", "case.routed", "case.answered", "case.closed",
            "case.overdue"} <= set(contract)
    assert {"id", "created_at", "data.id", "data.status", "data.url"} <= set(
        contract["case.created"])


def test_the_contract_check_catches_a_break() -> None:
    """The check can fail: a field removed, retyped or made optional, an event dropped; an
    added field is no break."""
    contract = _contract()
    now = {event: dict(fields) for event, fields in contract.items()}
    now["case.closed"].pop("data.reason")
    now["case.closed"]["data.id"] = "string required"
    now["case.closed"]["data.received_at"] = "string date-time"
    now["case.closed"]["data.new_field"] = "string"
    del now["case.overdue"]
    assert breaks(contract, now) == [
        "case.overdue: no longer published",
        "case.closed: data.id was integer required, now string required",
        "case.closed: data.received_at is no longer required",
        "case.closed: data.reason removed"]
