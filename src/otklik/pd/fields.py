"""The register of personal data in the tables: each column that holds it, its category and
whose it is. tests/pd/test_fields.py fails when a column whose name looks personal is in
neither :data:`PERSONAL` nor :data:`NOT_PERSONAL`, so a new table cannot add a name, a
phone or an address unnoticed. docs/security.md prints the register for people."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    """What kind of personal data a column holds."""

    identity = "identity"        # a person's name or login
    contact = "contact"          # phone, e-mail, postal address of a person
    identifier = "identifier"    # an account, device or pseudonymous key that points to one
    free_text = "free_text"      # what a resident wrote: may carry anything (PII spans)
    payload = "payload"          # a payload as received, with the sender's fields
    location = "location"        # where a resident was or reported from
    network = "network"          # an IP address


class Subject(StrEnum):
    """Whose data it is."""

    resident = "resident"
    staff = "staff"


@dataclass(frozen=True)
class Field:
    """One column of personal data."""

    category: Category
    subject: Subject
    #: What retention and erasure do to it ("" when they leave it: staff data, kept while the
    #: account exists).
    on_erasure: str = ""


R, S = Subject.resident, Subject.staff

#: ``table.column`` → what it holds. Residents' columns are emptied or masked by retention and
#: erasure (otklik/pd/anonymize.py); staff columns live as long as the account.
PERSONAL: dict[str, Field] = {
    "message.author_id": Field(Category.identifier, R, "emptied"),
    "message.author_key": Field(Category.identifier, R, "emptied"),
    "message.author_name": Field(Category.identity, R, "emptied"),
    "message.owner_id": Field(Category.identifier, R, "kept: the page or wall the post is on"),
    "message.text": Field(Category.free_text, R, "PII spans replaced ([ФИО], [телефон] …)"),
    "message.url": Field(Category.identifier, R, "emptied"),
    "message.attachments": Field(Category.identifier, R, "emptied"),
    "message.raw": Field(Category.payload, R, "replaced by a marker"),
    "message.lat": Field(Category.location, R, "rounded to ~1 km"),
    "message.lon": Field(Category.location, R, "rounded to ~1 km"),
    "message_revision.text": Field(Category.free_text, R, "deleted"),
    "message_revision.raw": Field(Category.payload, R, "deleted"),
    "open311_request.reporter": Field(Category.contact, R, "emptied"),
    "open311_request.address_string": Field(Category.contact, R, "PII spans replaced"),
    "open311_request.address_id": Field(Category.identifier, R, "kept: a place id"),
    "open311_request.lat": Field(Category.location, R, "rounded to ~1 km"),
    "open311_request.lon": Field(Category.location, R, "rounded to ~1 km"),
    "open311_request.media_url": Field(Category.identifier, R, "emptied"),
    "photo.key": Field(Category.identifier, R, "row and file deleted"),
    "photo.gps_lat": Field(Category.location, R, "row and file deleted"),
    "photo.gps_lon": Field(Category.location, R, "row and file deleted"),
    "answer.text": Field(Category.free_text, R, "PII spans replaced (a name in the greeting)"),
    "case.title": Field(Category.free_text, R, "PII spans replaced"),
    "pd_consent.author_key": Field(Category.identifier, R, "emptied"),
    "user_account.username": Field(Category.identity, S),
    "user_account.full_name": Field(Category.identity, S),
    "user_account.email": Field(Category.contact, S),
    "user_session.ip": Field(Category.network, S),
    "audit_log.ip": Field(Category.network, S),
    "audit_log.actor": Field(Category.identity, S),
    "taxonomy_version.author": Field(Category.identity, S),
    "report_schedule.recipients": Field(Category.contact, S),
    "report_delivery.recipient": Field(Category.contact, S),
    "organization.email": Field(Category.contact, S),
    # Later domains: staff columns, then residents' (otklik/pd/anonymize.py ``Rows``).
    "alert_recipient.email": Field(Category.contact, S),
    "alert_recipient.name": Field(Category.identity, S),
    "duty_member.email": Field(Category.contact, S),
    "duty_member.name": Field(Category.identity, S),
    "notify_contact.email": Field(Category.contact, S),
    "campaign_question.text": Field(Category.free_text, R, "PII spans replaced"),
    "campaign_question.author_key": Field(Category.identifier, R, "emptied"),
    "proposal.text": Field(Category.free_text, R, "PII spans replaced"),
    "proposal_vote.voter_key": Field(Category.identifier, R,
                                     "replaced by a key that points to nobody"),
    "fake_copy.author_key": Field(Category.identifier, R, "emptied"),
    "fake_suspect.text": Field(Category.free_text, R, "PII spans replaced"),
    "page_comment.author_id": Field(Category.identifier, R, "emptied"),
    "contest_application.applicant": Field(Category.identity, R, "replaced by [заявитель]"),
    "contest_application.contact": Field(Category.contact, R, "emptied"),
    "contest_application.summary": Field(Category.free_text, R, "PII spans replaced"),
    "contest_attachment.filename": Field(Category.free_text, R, "row and file deleted"),
    "fake.refutation_author_id": Field(Category.identifier, S),
    "incident_entry.author": Field(Category.identity, S),
    "incident_entry.author_id": Field(Category.identifier, S),
    "incident_update.author": Field(Category.identity, S),
    "incident_update.author_id": Field(Category.identifier, S),
    "organization.phone": Field(Category.contact, S),
}

#: Columns whose names look personal but are not, and why.
NOT_PERSONAL: dict[str, str] = {
    "incident_entry.text": "a step of an incident written by staff (no resident text)",
    "incident_update.text": "a public update about an incident, public by design",
    "alert_recipient.email_thread_id": "the id of an alert's e-mail thread",
    "campaign_question.answer_text": "the answer given on air by an official",
    "contest_attachment.stored_name": "a random file name the project gave",
    "fake_suspect.authors": "how many authors spread the text (a count)",
    "pd_anonymized_row.table_name": "the name of a table",
    "duty_roster.name": "a label of a duty roster",
    "fake.refutation_text": "the official refutation, public by design",
    "promise.text": "a promise made on air by an official",
    "proposal.public_text": "the proposal as published, personal data masked",
    "public_page.name": "the name of an official page",
    "public_page.owner_name": "the organization that owns an official page",
    "webhook_subscription.name": "a label of a subscription",
    "analytics_watermark.name": "the name of a rollup",
    "api_token.name": "a label of a token",
    "connector.name": "a label of a connector (a community, a bot)",
    "saved_view.name": "a label of a saved queue view",
    "territory.name": "a place name", "territory.short_name": "a place name",
    "territory.names": "place names", "territory.lat": "a settlement's centre",
    "territory.lon": "a settlement's centre",
    "organization.name": "an agency's name", "organization.short_name": "an agency's name",
    "decision.text": "a management decision (official text)",
    "answer.author_id": "the official who wrote the answer (a user id)",
    "label.author_id": "the staff member who labelled (a user id)",
    "taxonomy_version.author_id": "the staff member who edited (a user id)",
}

#: Column names that look like personal data: a column matching this must be registered.
LOOKS_PERSONAL = re.compile(
    r"author|(^|_)name(s)?$|full_name|username|phone|e_?mail|contact|address|reporter|"
    r"(^|_)ip$|recipient|passport|birth|snils|(^|_)inn$|(^|_)text$|(^|_)raw$|(^|_)lat$|"
    r"(^|_)lon$|device|account_id"
)


def resident_columns(table: str) -> list[str]:
    """The residents' personal columns of one table."""
    return sorted(key.split(".", 1)[1] for key, f in PERSONAL.items()
                  if key.startswith(f"{table}.") and f.subject is Subject.resident)
