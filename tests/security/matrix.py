"""The access matrix: who may call each route of the app, about which object.

DRAFT
"""

from __future__ import annotations

from tests.builders import PASSWORD
from tests.security.rules import ANY, PUBLIC, USER, Rule, any_of, perm, roles
from tests.security.world import MATRIX_CHANNEL, MATRIX_MODEL, Identity

from otklik.models.account import Role


def sees(scope: str, who: Identity) -> bool:
    """True when ``who`` sees the world's Tambov object of kind ``scope`` (rules.SCOPES)."""
    home = who.sees_home_region()
    narrowed = who.district or who.organization is not None or who.expert
    if scope == "region":
        return home and not who.district
    if scope == "case":
        return home and not who.district and not who.expert and who.organization in (
            None, "home")
    if scope == "region_wide":
        return home and not narrowed
    if scope == "contest":
        return home and not who.district and who.organization is None
    if scope == "own":
        return who.name in ("operator", "token_read")
    if scope == "administered":
        return home
    raise AssertionError(f"unknown scope {scope!r}: one of rules.SCOPES")


#: Valid bodies of the creating routes (each request is rolled back). The region is Tambov
#: (68), the walk's home: a Samara user who passes the permission is refused for the region.
NEW_USER = {"username": "matrix.new", "password": "Matrix-walk-2026!", "role": "operator",
            "region_codes": ["68"]}
ORGANIZATION = {"region_code": "68", "name": "Управление матрицы доступа", "kind": "committee"}
ROUTING_RULE = {"region_code": "68", "executor_id": "{home:organization_id}"}
CALENDAR_DAY = {"region_code": "68", "day": "2026-12-30", "kind": "workday"}
#: decisions are recorded by the center's analysts (decisions/service.py _can_write:
#: ``analytics`` less the read-only head and deputy)
DECISION_WRITERS = (Role.admin, Role.analyst)
DECISION_CHANGE = {"title": "Ремонт дорог матрицы", "decided_on": "2026-11-02",
                   "decided_by": "Глава округа"}
DECISION = {"region_code": "68", **DECISION_CHANGE}
DECISION_OF_PROMISE = DECISION_CHANGE
CAMPAIGN = {"region_code": "68", "title": "Прямая линия матрицы",
            "opens_at": "2026-11-01T09:00:00+00:00", "closes_at": "2026-11-10T09:00:00+00:00",
            "air_at": "2026-11-12T09:00:00+00:00"}
PROMISE = {"text": "Отремонтируем дорогу летом", "organization_id": "{home:organization_id}",
           "working_days": 30}
CONTEST = {"region_code": "68", "title": "Конкурс матрицы",
           "tracks": [{"title": "Дворы", "budget_rub": 1000000, "grant_min_rub": 1000,
                       "grant_max_rub": 100000, "winners": 3}],
           "criteria": [{"title": "Польза"}]}

#: why a public form stays ⚠: a valid one is refused for nobody alone (no CSRF cookie), so
#: "public: the same answer for everybody" cannot hold
RESIDENT_FORM = ("a resident's form: its CSRF token comes from the page's cookie, which the "
                 "walk's nobody lacks")

MATRIX: dict[tuple[str, str], Rule] = {
    ("GET", "/"): ANY,
    ("GET", "/admin"): perm("read"),
    ("GET", "/admin/apikeys"): perm("admin"),
    ("POST", "/admin/apikeys"): perm("admin"),
    ("POST", "/admin/apikeys/{key_id}/revoke"): perm("admin"),
    ("GET", "/admin/audit"): perm("admin"),
    ("GET", "/admin/calendar"): perm("admin"),
    ("POST", "/admin/calendar"): perm("reference.write", body=CALENDAR_DAY),
    ("POST", "/admin/calendar/{exception_id}/delete"): perm("admin"),
    ("GET", "/admin/channels"): perm("admin"),
    ("POST", "/admin/channels"): perm("admin"),
    ("POST", "/admin/channels/remove"): perm("admin", body={"channel": MATRIX_CHANNEL}),
    ("GET", "/admin/connectors"): perm("admin"),
    ("POST", "/admin/connectors"): perm("admin"),
    ("GET", "/admin/models"): perm("admin"),
    ("POST", "/admin/models/activate"): perm("admin", body={"version": MATRIX_MODEL}),
    ("POST", "/admin/models/rollback"): perm("admin"),
    ("GET", "/admin/policies"): perm("admin"),
    ("POST", "/admin/policies"): perm("admin"),
    ("GET", "/admin/rules"): perm("admin"),
    ("POST", "/admin/rules"): perm("reference.write", body=ROUTING_RULE),
    ("GET", "/admin/taxonomy"): perm("read"),
    ("POST", "/admin/taxonomy/activate"): perm("admin"),
    ("POST", "/admin/taxonomy/lexicon"): perm("admin"),
    ("POST", "/admin/taxonomy/reenrich"): perm("admin"),
    ("POST", "/admin/taxonomy/rename"): perm("admin"),
    ("POST", "/admin/taxonomy/subtopic"): perm("admin"),
    ("POST", "/admin/taxonomy/urgency"): perm("admin"),
    ("GET", "/admin/users"): perm("admin"),
    ("GET", "/admin/users/new"): perm("admin"),
    ("POST", "/admin/users/new"): perm("users", body={**NEW_USER, "region_codes": "68"}),
    ("GET", "/analytics"): perm("analytics"),
    ("GET", "/analytics/compare"): perm("analytics"),
    ("GET", "/analytics/decisions"): perm("analytics"),
    ("GET", "/analytics/decisions/new"): roles(Role.admin, Role.analyst),
    ("POST", "/analytics/decisions/new"): roles(*DECISION_WRITERS, body=DECISION),
    ("GET", "/analytics/decisions/{decision_id}"): perm("analytics", "region"),
    ("POST", "/analytics/decisions/{decision_id}"):
        roles(*DECISION_WRITERS, scope="region", body=DECISION_CHANGE),
    ("GET", "/analytics/drill"): perm("analytics"),
    ("GET", "/analytics/reports"): perm("analytics"),
    ("GET", "/analytics/reports/files/{file_id}"): perm("analytics", "region"),
    ("POST", "/analytics/reports/schedules"): roles(Role.admin, Role.analyst),
    ("POST", "/analytics/reports/schedules/{schedule_id}/{action}"):
        roles(Role.admin, Role.analyst, action="pause"),
    ("GET", "/api/docs"): PUBLIC,
    ("GET", "/api/openapi.json"): PUBLIC,
    ("GET", "/api/v1/analytics/compare"): perm("analytics"),
    ("GET", "/api/v1/analytics/dashboard"): perm("analytics"),
    ("GET", "/api/v1/analytics/drill"): perm("analytics"),
    ("GET", "/api/v1/analytics/findings"): perm("analytics"),
    ("GET", "/api/v1/analytics/map/regions"): perm("analytics"),
    ("GET", "/api/v1/analytics/ratings/{subject}"): perm("analytics", subject="executor"),
    ("GET", "/api/v1/audit"): perm("admin"),
    ("GET", "/api/v1/auth/csrf"): PUBLIC,
    ("POST", "/api/v1/auth/login"): PUBLIC.at(body={"username": "analyst", "password": PASSWORD}),
    ("POST", "/api/v1/auth/logout"): ANY,
    ("POST", "/api/v1/calendar-exceptions"): perm("reference.write", body=CALENDAR_DAY),
    ("DELETE", "/api/v1/calendar-exceptions/{exception_id}"): perm("admin"),
    ("GET", "/api/v1/campaigns"): perm("read"),
    ("POST", "/api/v1/campaigns"): perm("triage", "region_wide", body=CAMPAIGN),
    ("GET", "/api/v1/campaigns/{campaign_id}"):
        perm("read", "region", hidden_for=frozenset({Role.executor})),
    ("POST", "/api/v1/campaigns/{campaign_id}/collect"): perm("triage", "region_wide"),
    ("POST", "/api/v1/campaigns/{campaign_id}/finish"): perm("triage", "region_wide"),
    ("GET", "/api/v1/campaigns/{campaign_id}/groups"):
        perm("read", "region", hidden_for=frozenset({Role.executor})),
    ("POST", "/api/v1/campaigns/{campaign_id}/import"):
        perm("triage", "region_wide", body={"text": "Когда починят дорогу?"}),
    ("POST", "/api/v1/campaigns/{campaign_id}/picks"): perm("triage", "region_wide"),
    ("GET", "/api/v1/campaigns/{campaign_id}/promises"):
        perm("read", "region", hidden_for=frozenset({Role.executor})),
    ("GET", "/api/v1/campaigns/{campaign_id}/questions"):
        perm("read", "region", hidden_for=frozenset({Role.executor})),
    ("GET", "/api/v1/campaigns/{campaign_id}/report"):
        perm("read", "region", hidden_for=frozenset({Role.executor})),
    ("GET", "/api/v1/campaigns/{campaign_id}/sheet.{fmt}"):
        perm("read", "region", hidden_for=frozenset({Role.executor}), fmt="docx"),
    ("GET", "/api/v1/cases"): perm("read"),
    ("POST", "/api/v1/cases/merge"): perm("moderate", "case"),
    ("GET", "/api/v1/cases/{case_id}"): perm("read", "case"),
    ("PATCH", "/api/v1/cases/{case_id}"): perm("read", "case"),
    ("POST", "/api/v1/cases/{case_id}/actions/{action}"): perm("read", "case", action="route"),
    ("PUT", "/api/v1/cases/{case_id}/assignee"): any_of("answer", "moderate", scope="case"),
    ("GET", "/api/v1/cases/{case_id}/assignees"): perm("read", "case"),
    ("POST", "/api/v1/cases/{case_id}/split"): perm("moderate", "case"),
    ("GET", "/api/v1/channel-places"): perm("read"),
    ("PUT", "/api/v1/channel-places"): perm("admin"),
    ("DELETE", "/api/v1/channel-places"): perm("admin", query={"channel": MATRIX_CHANNEL}),
    ("GET", "/api/v1/connectors"): perm("admin"),
    ("POST", "/api/v1/connectors"): perm("admin"),
    ("GET", "/api/v1/contests"): any_of("contests", "contests.score"),
    ("POST", "/api/v1/contests"): perm("contests", body=CONTEST),
    ("GET", "/api/v1/contests/{contest_id}"): any_of("contests", "contests.score"),
    ("PATCH", "/api/v1/contests/{contest_id}"): perm("contests"),
    ("GET", "/api/v1/contests/{contest_id}/applications"): any_of("contests", "contests.score"),
    ("POST", "/api/v1/contests/{contest_id}/applications"): perm("contests"),
    ("GET", "/api/v1/contests/{contest_id}/applications/{application_id}"):
        any_of("contests", "contests.score"),
    ("GET",
     "/api/v1/contests/{contest_id}/applications/{application_id}/attachments/{attachment_id}"):
        any_of("contests", "contests.score", scope="contest", unchecked=True,
               note="no attachment is built: who passes gets 404", attachment_id="999999"),
    ("POST", "/api/v1/contests/{contest_id}/applications/{application_id}/conflict"):
        perm("contests.score"),
    ("POST", "/api/v1/contests/{contest_id}/applications/{application_id}/review"):
        perm("contests.score"),
    ("GET", "/api/v1/contests/{contest_id}/applications/{application_id}/reviews"):
        perm("contests"),
    ("GET", "/api/v1/contests/{contest_id}/experts"): perm("contests"),
    ("POST", "/api/v1/contests/{contest_id}/experts"): perm("contests"),
    ("GET", "/api/v1/contests/{contest_id}/protocol"): perm("contests"),
    ("GET", "/api/v1/contests/{contest_id}/results"): perm("contests"),
    ("POST", "/api/v1/deadline-policies"): perm("admin"),
    ("GET", "/api/v1/decisions"): perm("analytics"),
    ("GET", "/api/v1/demo/progress"): PUBLIC.at(note="only in the demo (404 elsewhere)"),
    ("POST", "/api/v1/decisions"): roles(*DECISION_WRITERS, body=DECISION),
    ("GET", "/api/v1/decisions/counts"): perm("analytics"),
    ("GET", "/api/v1/decisions/{decision_id}"): perm("analytics", "region"),
    ("PATCH", "/api/v1/decisions/{decision_id}"): roles(Role.admin, Role.analyst, scope="region"),
    ("DELETE", "/api/v1/decisions/{decision_id}"): roles(Role.admin, Role.analyst, scope="region"),
    ("GET", "/api/v1/decisions/{decision_id}/effect"): perm("analytics", "region"),
    ("GET", "/api/v1/decisions/{decision_id}/messages"): perm("analytics", "region"),
    ("POST", "/api/v1/extensions/{extension_id}/decision"):
        perm("approve_extension", "case", query={"approve": "true"}),
    ("GET", "/api/v1/me"): USER,
    ("POST", "/api/v1/me/password"): perm("tokens"),
    ("GET", "/api/v1/messages"): perm("read", hidden_for=frozenset({Role.executor})),
    ("POST", "/api/v1/messages/batch"): perm("intake"),
    ("GET", "/api/v1/messages/{message_id}"):
        perm("read", "region", hidden_for=frozenset({Role.executor})),
    ("POST", "/api/v1/notices/{answer_id}/approve"): perm("moderate", "region"),
    ("GET", "/api/v1/organizations"): perm("read"),
    ("POST", "/api/v1/organizations"): perm("reference.write", body=ORGANIZATION),
    ("GET", "/api/v1/organizations/{organization_id}"): perm("read", "case"),
    ("GET", "/api/v1/problems"): perm("read"),
    ("GET", "/api/v1/problems/{problem_id}"): perm("read", "case"),
    ("POST", "/api/v1/problems/{problem_id}/answer"): perm("moderate", "case"),
    ("POST", "/api/v1/promises/{promise_id}/decision"):
        roles(*DECISION_WRITERS, scope="region_wide", body=DECISION_OF_PROMISE),
    ("POST", "/api/v1/promises/{promise_id}/done"): perm("triage", "region_wide"),
    ("POST", "/api/v1/promises/{promise_id}/stages"): perm("triage", "region_wide"),
    ("GET", "/api/v1/proposals"): perm("read"),
    ("POST", "/api/v1/proposals"): perm("triage", "region"),
    ("GET", "/api/v1/proposals/public"): PUBLIC,
    ("GET", "/api/v1/proposals/{proposal_id}"): perm("read", "case"),
    ("POST", "/api/v1/proposals/{proposal_id}/assign"): perm("triage", "case"),
    ("GET", "/api/v1/proposals/{proposal_id}/events"): perm("read", "case"),
    ("POST", "/api/v1/proposals/{proposal_id}/meetings"):
        any_of("answer", "triage", scope="case"),
    ("POST", "/api/v1/proposals/{proposal_id}/status"): any_of("answer", "triage", scope="case"),
    ("POST", "/api/v1/proposals/{proposal_id}/support"):
        perm("intake", "region", body={"source": "vk", "author_id": "matrix"}),
    ("POST", "/api/v1/push/{connector_id}"): PUBLIC.at(connector_id="999999"),
    ("POST", "/api/v1/questions/{question_id}/answer"): perm("triage", "region_wide"),
    ("POST", "/api/v1/questions/{question_id}/confirm"): perm("triage", "region_wide"),
    ("POST", "/api/v1/questions/{question_id}/promises"):
        perm("triage", "region_wide", body=PROMISE),
    ("GET", "/api/v1/routing/report"): perm("read"),
    ("GET", "/api/v1/routing/rules"): perm("read", query={"region_code": "68"}),
    ("POST", "/api/v1/routing/rules"): perm("reference.write", body=ROUTING_RULE),
    ("GET", "/api/v1/territories"): perm("read"),
    ("GET", "/api/v1/territories/{territory_id}"): perm("read", "region"),
    ("GET", "/api/v1/tokens"): ANY,
    ("POST", "/api/v1/tokens"): perm("tokens", body={"name": "matrix", "scopes": ["tokens"]}),
    ("DELETE", "/api/v1/tokens/{token_id}"): perm("tokens", "own"),
    ("GET", "/api/v1/users"): perm("admin"),
    ("POST", "/api/v1/users"): perm("users", body=NEW_USER),
    ("PATCH", "/api/v1/users/{user_id}"): perm("admin"),
    ("GET", "/cases"): perm("read"),
    ("POST", "/cases/bulk"): perm("moderate"),
    ("GET", "/cases/new-count"): perm("read", query={"since": "2026-12-01T09:00:00+00:00"}),
    ("POST", "/cases/views"): perm("read"),
    ("POST", "/cases/views/{view_id}/delete"): perm("read", "own"),
    ("GET", "/cases/{case_id}"): perm("read", "case"),
    ("POST", "/cases/{case_id}/assign"): any_of("answer", "moderate", scope="case"),
    ("POST", "/cases/{case_id}/do/{action}"): perm("read", "case", action="route"),
    ("POST", "/cases/{case_id}/edit"): perm("read", "case"),
    ("POST", "/cases/{case_id}/split"): perm("moderate", "case"),
    ("GET", "/contests"): any_of("contests", "contests.score"),
    ("GET", "/contests/{contest_id}"): any_of("contests", "contests.score"),
    ("GET", "/contests/{contest_id}/applications/{application_id}"):
        any_of("contests", "contests.score"),
    ("POST", "/contests/{contest_id}/applications/{application_id}/conflict"):
        perm("contests.score", "contest", body={"reason": "Заявитель мой родственник"}),
    ("POST", "/contests/{contest_id}/applications/{application_id}/review"):
        perm("contests.score", "contest", body={"score_{home:criterion_id}": "7",
                                                 "score_{home:criterion2_id}": "4"}),
    ("GET", "/contests/{contest_id}/apply"): PUBLIC,
    ("GET", "/demo/progress"): PUBLIC.at(note="only in the demo (404 elsewhere)"),
    ("POST", "/contests/{contest_id}/apply"): PUBLIC.at(unchecked=True, note=RESIDENT_FORM),
    ("POST", "/contests/{contest_id}/experts"): perm("contests", "contest", body={
        "user_id": "{home:expert_user_id}", "track_id": "{home:track_id}"}),
    ("POST", "/contests/{contest_id}/import"): perm("contests", "contest").at(
        unchecked=True, note="a file upload: the walk sends forms without files (422)"),
    ("GET", "/contests/{contest_id}/results"): perm("contests"),
    ("POST", "/contests/{contest_id}/status"):
        perm("contests", "contest", body={"status": "scoring"}),
    ("POST", "/extensions/{extension_id}/decide"): perm("approve_extension", "case"),
    ("GET", "/form"): PUBLIC,
    ("POST", "/form"): PUBLIC.at(unchecked=True, note=RESIDENT_FORM),
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/lang/{code}"): PUBLIC.at(code="en"),
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC.at(unchecked=True, note=RESIDENT_FORM.replace(
        "a resident's form", "the login form")),
    ("POST", "/logout"): ANY.at(note="answers with the login form"),
    ("GET", "/media/photos/{key}"): PUBLIC.at(key="0"*64 + ".jpg"),
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/moderation"): perm("moderate"),
    ("GET", "/my"): perm("answer"),
    ("GET", "/open311/v2/discovery.{fmt}"): PUBLIC,
    ("POST", "/open311/v2/requests.{fmt}"): PUBLIC.at(body={"api_key": "{secret:key_open311}"}),
    ("GET", "/open311/v2/requests.{fmt}"): PUBLIC,
    ("GET", "/open311/v2/requests/{request_id}.{fmt}"): PUBLIC.at(request_id="999999999"),
    ("GET", "/open311/v2/services.{fmt}"): PUBLIC,
    ("GET", "/open311/v2/services/{code}.{fmt}"): PUBLIC.at(code="roads"),
    ("GET", "/open311/v2/tokens/{token}.{fmt}"): PUBLIC.at(token="matrix-unknown"),
    ("GET", "/organizations"): perm("read"),
    ("GET", "/participation"): perm("read"),
    ("POST", "/participation/lines"): perm("triage", "region_wide", body={
        **CAMPAIGN, "opens_at": "2026-11-01T09:00", "closes_at": "2026-11-10T09:00",
        "air_at": "2026-11-12T09:00"}),
    ("GET", "/participation/lines/{campaign_id}"):
        perm("read", "region", hidden_for=frozenset({Role.executor})),
    ("POST", "/participation/lines/{campaign_id}/collect"): perm("triage", "region_wide"),
    ("POST", "/participation/lines/{campaign_id}/finish"): perm("triage", "region_wide"),
    ("POST", "/participation/lines/{campaign_id}/import"): perm("triage", "region_wide").at(
        unchecked=True, note="a file upload: the walk sends forms without files (refused "
        "before the gate)"),
    ("POST", "/participation/lines/{campaign_id}/picks"): perm("triage", "region_wide"),
    ("POST", "/participation/promises/{promise_id}/done"): perm("triage", "region_wide"),
    ("POST", "/participation/promises/{promise_id}/stages/{index}"):
        perm("triage", "region_wide", index="0"),
    ("GET", "/participation/proposals"): PUBLIC,
    ("POST", "/participation/questions/{question_id}/answer"): perm("triage", "region_wide"),
    ("POST", "/participation/questions/{question_id}/confirm"): perm("triage", "region_wide"),
    ("POST", "/participation/questions/{question_id}/promise"):
        perm("read", "region", hidden_for=frozenset({Role.executor})),
    ("GET", "/participation/review"): perm("read"),
    ("GET", "/participation/review/{proposal_id}"): perm("read", "case"),
    ("POST", "/participation/review/{proposal_id}/assign"): perm("triage", "case"),
    ("POST", "/participation/review/{proposal_id}/meeting"): any_of(
        "answer", "triage", scope="case",
        body={"day": "2026-11-20", "note": "Встретились с жителями у набережной"}),
    ("POST", "/participation/review/{proposal_id}/notices/{answer_id}"): perm("moderate", "case"),
    ("POST", "/participation/review/{proposal_id}/status"):
        any_of("answer", "triage", scope="case"),
    ("GET", "/problems"): perm("read"),
    ("GET", "/problems/{problem_id}"): perm("read", "case"),
    ("POST", "/problems/{problem_id}/answer"): perm("moderate", "case"),
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/territories"): perm("read"),
    ("GET", "/triage"): perm("moderate"),
    # -- incidents (incidents/service.py: read to see, write to act; whoever sees the cases)
    ("GET", "/api/v1/incidents"): perm("read"),
    ("POST", "/api/v1/incidents"): perm("write"),
    ("GET", "/api/v1/incidents/{incident_id}"): perm("read", "case"),
    ("PATCH", "/api/v1/incidents/{incident_id}"): perm("write", "case"),
    ("GET", "/api/v1/incidents/{incident_id}/timeline"): perm("read", "case"),
    ("GET", "/api/v1/incidents/{incident_id}/updates"): perm("read", "case"),
    ("POST", "/api/v1/incidents/{incident_id}/updates"): perm("write", "case"),
    ("POST", "/api/v1/incidents/{incident_id}/merge"): perm("write", "case"),
    ("POST", "/api/v1/incidents/{incident_id}/close"): perm("write", "case"),
    ("POST", "/api/v1/incidents/{incident_id}/answer"):
        perm("write", "case", body={"text": "Авария устраняется, подвоз воды идёт по графику"}),
    ("POST", "/api/v1/incidents/{incident_id}/answer/approve"):
        perm("moderate", "case", note="incidents/informing.py approve_answer; no answer is "
             "proposed in the world: who passes gets 400"),
    ("GET", "/incidents"): perm("read"),
    ("GET", "/incidents/{incident_id}"): perm("read", "case"),
    ("GET", "/incidents/{incident_id}/messages"): perm("read", "case"),
    ("POST", "/incidents/{incident_id}/answer"): perm("write", "case"),
    ("POST", "/incidents/{incident_id}/answer/approve"):
        perm("moderate", "case", note="incidents/informing.py approve_answer; no answer is "
             "proposed in the world: who passes gets 400"),
    ("POST", "/incidents/{incident_id}/close"): perm("write", "case"),
    ("POST", "/incidents/{incident_id}/edit"): perm("write", "case"),
    ("POST", "/incidents/{incident_id}/measure"): perm("write", "case"),
    ("POST", "/incidents/{incident_id}/merge"): perm("write", "case"),
    ("POST", "/incidents/{incident_id}/status"): perm("write", "case"),
    ("POST", "/incidents/{incident_id}/update"): perm("write", "case"),
    ("GET", "/public/incidents/{incident_id}"): PUBLIC,
    ("POST", "/cases/{case_id}/incident"): perm("write", "case"),
    ("GET", "/api/v1/incidents/thresholds"): perm("admin"),
    ("PUT", "/api/v1/incidents/thresholds"): perm("admin", body={"region_code": "68"}),
    ("GET", "/admin/incidents/thresholds"): perm("admin"),
    ("POST", "/admin/incidents/thresholds"): perm("admin", body={"region_code": "68"}),
    ("POST", "/problems/{problem_id}/incident"): perm("write", "case"),
}

# -- the later domains: fakes, official pages, notifier, webhooks, personal data, queue ------
#: the registry of fakes is written by the center's analysts (fakes/service.py _can_write:
#: ``analytics`` less the read-only head and deputy)
FAKE_WRITERS = (Role.admin, Role.analyst)
CLAIM = {"region_code": "68", "claim": "Вода в городе отравлена, не пейте из-под крана"}
MATRIX.update({
    ("GET", "/api/v1/fakes"): perm("analytics"),
    ("POST", "/api/v1/fakes"): roles(*FAKE_WRITERS, body=CLAIM),
    ("GET", "/api/v1/fakes/analytics"): perm("analytics"),
    ("GET", "/api/v1/fakes/analytics.xlsx"): perm("analytics"),
    ("GET", "/api/v1/fakes/suspects"): perm("analytics"),
    ("POST", "/api/v1/fakes/suspects/{suspect_id}/dismiss"):
        roles(*FAKE_WRITERS, scope="region"),
    ("POST", "/api/v1/fakes/suspects/{suspect_id}/promote"):
        roles(*FAKE_WRITERS, scope="region"),
    ("GET", "/api/v1/fakes/{fake_id}"): perm("analytics", "region"),
    ("PATCH", "/api/v1/fakes/{fake_id}"): roles(*FAKE_WRITERS, scope="region"),
    ("GET", "/api/v1/fakes/{fake_id}/copies"): perm("analytics", "region"),
    ("GET", "/api/v1/fakes/{fake_id}/history"): perm("analytics", "region"),
    ("GET", "/api/v1/fakes/{fake_id}/timeline"): perm("analytics", "region"),
    ("POST", "/api/v1/fakes/{fake_id}/origin/{message_id}"):
        roles(*FAKE_WRITERS, scope="region"),
    ("PUT", "/api/v1/fakes/{fake_id}/refutation"): roles(*FAKE_WRITERS, scope="region"),
    ("POST", "/api/v1/fakes/{fake_id}/refutation/submit"): roles(*FAKE_WRITERS, scope="region"),
    ("POST", "/api/v1/fakes/{fake_id}/refutation/approve"):
        roles(*FAKE_WRITERS, scope="region"),
    ("POST", "/api/v1/fakes/{fake_id}/refutation/return"):
        roles(*FAKE_WRITERS, scope="region", query={"comment": "Уточните источник"}),
    ("POST", "/api/v1/check"):
        PUBLIC.at(body={"text": "Правда ли, что воду в городе отравили?"}),
    ("POST", "/api/v1/fakes-bot/{name}"):
        PUBLIC.at(name="matrix", note="a wrong secret token: 403 for everybody"),
    ("GET", "/fakes"): perm("analytics"),
    ("POST", "/fakes/new"): roles(*FAKE_WRITERS, body=CLAIM),
    ("GET", "/fakes/analytics"): perm("analytics"),
    ("GET", "/fakes/suspects"): perm("analytics"),
    ("POST", "/fakes/suspects/{suspect_id}"):
        roles(*FAKE_WRITERS, scope="region", body={"action": "dismiss"}),
    ("GET", "/fakes/{fake_id}"): perm("analytics", "region"),
    ("POST", "/fakes/{fake_id}"): roles(*FAKE_WRITERS, scope="region", body={"action": "submit"}),
    ("GET", "/myths"): PUBLIC,
    # official pages: analysts read every page of their regions, a page owner (``pages``) its
    # organization's (no owner among the walk's identities)
    ("GET", "/api/v1/publics/pages"): any_of("analytics", "pages"),
    ("POST", "/api/v1/publics/pages"): perm("reference.write"),
    ("GET", "/api/v1/publics/pages/{page_id}"): any_of("analytics", "pages", scope="region"),
    ("GET", "/api/v1/publics/ratings"): any_of("analytics", "pages"),
    ("GET", "/publics"): perm("analytics"),
    ("GET", "/publics/export"): perm(
        "analytics", query={"region_code": "68", "week": "2026-W48"}, unchecked=True,
        note="no rating is computed in the world: who passes gets 404"),
    ("GET", "/publics/methodology"): perm("analytics"),
    ("POST", "/publics/methodology"): perm("admin"),
    ("GET", "/publics/mine"): perm("pages"),
    ("GET", "/publics/pages/{page_id}"): any_of("analytics", "pages", scope="region"),
    ("GET", "/publics/registry"): perm("analytics"),
    # the notifier's rosters: an administrator of the roster's region (the walk's admin is
    # federal, so no Samara probe)
    ("GET", "/admin/notify"): perm("admin"),
    ("POST", "/admin/notify/rosters"): perm("admin", body={
        "name": "Дежурные матрицы", "region_id": "{home:region_territory_id}"}),
    ("POST", "/admin/notify/rosters/{roster_id}/members"): perm("admin"),
    ("POST", "/admin/notify/members/{member_id}/{action}"): perm("admin", action="up"),
    ("POST", "/admin/notify/test"): perm("admin"),
    ("GET", "/notify/ack/{token}"):
        PUBLIC.at(token="matrix-unknown", note="the e-mail's token is the key: 404 if wrong"),
    ("POST", "/notify/ack/{token}"):
        PUBLIC.at(token="matrix-unknown", note="the e-mail's token is the key: 404 if wrong"),
    ("POST", "/api/v1/notify/telegram/{secret}"):
        PUBLIC.at(secret="matrix-wrong", note="the secret is the key: 404 if wrong"),
    # webhooks: the ``webhooks`` permission (an admin; a token minted with it); a
    # subscription is its owner's or an administrator's of its region
    ("GET", "/api/v1/webhooks"): perm("webhooks"),
    ("POST", "/api/v1/webhooks"): perm("webhooks"),
    ("GET", "/api/v1/webhooks/events"): perm("webhooks"),
    ("GET", "/api/v1/webhooks/{subscription_id}"): perm("webhooks"),
    ("PATCH", "/api/v1/webhooks/{subscription_id}"): perm("webhooks"),
    ("DELETE", "/api/v1/webhooks/{subscription_id}"): perm("webhooks"),
    ("GET", "/api/v1/webhooks/{subscription_id}/deliveries"): perm("webhooks"),
    ("GET", "/admin/webhooks"): perm("admin"),
    ("POST", "/admin/webhooks/{subscription_id}/enable"): perm("admin"),
    # a resident's personal data: administrators only
    ("GET", "/api/v1/pd/export"): perm("admin"),
    ("POST", "/api/v1/pd/erase"): perm("admin", body={"message_id": "{home:message_id}"}),
    # the task queue is every region's: a federal administrator (a regional one gets 404)
    ("GET", "/admin/queue"): perm("admin"),
    ("POST", "/admin/queue/drop"): perm("admin").at(
        unchecked=True, note="needs a dead-lettered job in the broker: an admin gets 404"),
    ("POST", "/admin/queue/requeue"): perm("admin").at(
        unchecked=True, note="needs a dead-lettered job in the broker: an admin gets 404"),
})
