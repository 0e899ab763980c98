"""GeoReport v2 bodies in XML (xml.etree.ElementTree: every text escaped) and JSON.

Resident text is hostile: characters XML 1.0 cannot carry (control characters, lone
surrogates) are dropped from every value before it is written, in both formats."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

from fastapi.responses import Response

from otklik.open311.service import CHANGESET, SPECIFICATION, Service, ServiceRequest

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"


def clean(text: str) -> str:
    """Text without the characters XML 1.0 forbids (and JSON cannot encode as UTF-8)."""
    return _NOT_XML.sub("", text)


def iso(moment: datetime | None) -> str:
    """ISO 8601 with an offset (UTC), to the second; empty when unknown."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _value(value: Any) -> Any:
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _value(v) for k, v in value.items()}
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return clean(str(value))


def _element(tag: str, value: Any) -> ET.Element:
    """An element from a value: a dict is children, a list is repeated ``item_tag``s."""
    node = ET.Element(tag)
    if isinstance(value, dict):
        for key, child in value.items():
            node.append(_element(key, child))
    else:
        node.text = _text(value)
    return node


def _xml(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def respond(fmt: str, body: Any, root: str, item: str, status_code: int = 200) -> Response:
    """``body`` (a list of dicts, or one dict) as JSON or as XML under ``root``/``item``."""
    if fmt == "json":
        data = json.dumps(_value(body), ensure_ascii=False, separators=(",", ":"))
        return Response(data.encode("utf-8"), status_code=status_code, media_type=JSON_TYPE)
    node = ET.Element(root)
    for entry in body if isinstance(body, list) else [body]:
        node.append(_element(item, entry) if item else _element(root, entry))
    return Response(_xml(node), status_code=status_code, media_type=XML_TYPE)


def discovery(base_url: str) -> dict[str, Any]:
    """The discovery document."""
    return {
        "changeset": CHANGESET,
        "contact": "Оператор Отклик в регионе (ЦУР)",
        "key_service": "Ключ API (api_key) для POST requests выдаёт администратор ЦУР: "
                       "otklik apikey create --scope open311 (docs/open311.md)",
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": base_url,
            "changeset": CHANGESET,
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
    }


def discovery_response(fmt: str, base_url: str) -> Response:
    """Discovery in JSON (an object) or XML (endpoints/endpoint/formats/format)."""
    body = discovery(base_url)
    if fmt == "json":
        return respond(fmt, body, "discovery", "")
    root = ET.Element("discovery")
    for key in ("changeset", "contact", "key_service"):
        ET.SubElement(root, key).text = _text(body[key])
    endpoints = ET.SubElement(root, "endpoints")
    for endpoint in body["endpoints"]:
        node = ET.SubElement(endpoints, "endpoint")
        for key in ("specification", "url", "changeset", "type"):
            ET.SubElement(node, key).text = _text(endpoint[key])
        formats = ET.SubElement(node, "formats")
        for name in endpoint["formats"]:
            ET.SubElement(formats, "format").text = name
    return Response(_xml(root), media_type=XML_TYPE)


def service(item: Service) -> dict[str, Any]:
    """One entry of services.{fmt}."""
    return {
        "service_code": item.code,
        "service_name": item.name,
        "description": item.description,
        "metadata": item.metadata,
        "type": "realtime",
        "keywords": ", ".join(item.keywords),
        "group": item.group,
    }


def definition_response(fmt: str, item: Service) -> Response:
    """services/{code}.{fmt}: the code and its attributes (datatype, required, order,
    values)."""
    attributes = [{
        "variable": bool(a.get("variable", True)),
        "code": a["code"],
        "datatype": a.get("datatype", "string"),
        "required": bool(a.get("required", False)),
        "datatype_description": a.get("datatype_description", ""),
        "order": int(a.get("order", n + 1)),
        "description": a.get("description", ""),
        "values": [{"key": v["key"], "name": v["name"]} for v in a.get("values", [])],
    } for n, a in enumerate(item.attributes)]
    if fmt == "json":
        return respond(fmt, {"service_code": item.code, "attributes": attributes}, "", "")
    root = ET.Element("service_definition")
    ET.SubElement(root, "service_code").text = _text(item.code)
    holder = ET.SubElement(root, "attributes")
    for attribute in attributes:
        node = ET.SubElement(holder, "attribute")
        for key, value in attribute.items():
            if key == "values":
                values = ET.SubElement(node, "values")
                for entry in value:
                    values.append(_element("value", entry))
            else:
                ET.SubElement(node, key).text = _text(value)
    return Response(_xml(root), media_type=XML_TYPE)


def service_request(item: ServiceRequest) -> dict[str, Any]:
    """One entry of requests.{fmt} (no reporter data: the spec's public fields only)."""
    return {
        "service_request_id": str(item.id),
        "status": item.status,
        "status_notes": item.status_notes,
        "service_name": item.service_name,
        "service_code": item.service_code,
        "description": item.description,
        "agency_responsible": item.agency_responsible,
        "service_notice": "",
        "requested_datetime": iso(item.requested),
        "updated_datetime": iso(item.updated),
        "expected_datetime": iso(item.expected),
        "address": item.address,
        "address_id": "",
        "zipcode": "",
        "lat": item.lat,
        "long": item.long,
        "media_url": item.media_url,
    }


def error_response(fmt: str, status_code: int, description: str) -> Response:
    """The spec's errors: ``<errors><error><code/><description/></error></errors>`` or
    ``[{"code", "description"}]``; XML when the format is not known."""
    body = [{"code": status_code, "description": description}]
    return respond("json" if fmt == "json" else "xml", body, "errors", "error",
                   status_code=status_code)


def format_of(path: str) -> str:
    """The format a path asks for (by its extension; XML, the spec's default, otherwise)."""
    return "json" if path.rstrip("/").endswith(".json") else "xml"
