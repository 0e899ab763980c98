"""The access matrix: who may call each route of the app, about which object.

DRAFT
"""

from __future__ import annotations

from tests.builders import PASSWORD
from tests.security.rules import ANY, PUBLIC, USER, Rule, any_of, perm, roles
from tests.security.world import Identity

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


MATRIX: dict[tuple[str, str], Rule] = {
    ("GET", "/"): ANY,  # web.views.home
    ("GET", "/admin"): perm("read"),  # web.workspace_admin.admin_index
    ("GET", "/admin/apikeys"): perm("admin"),  # web.admin_apikeys.apikeys_page
    ("POST", "/admin/apikeys"): perm("admin"),  # web.admin_apikeys.apikeys_create
    ("POST", "/admin/apikeys/{key_id}/revoke"): perm("admin"),  # web.admin_apikeys.apikeys_revoke
    ("GET", "/admin/audit"): perm("admin"),  # web.views.audit_page
    ("GET", "/admin/calendar"): perm("admin"),  # web.workspace_admin.calendar_page
    ("POST", "/admin/calendar"): ANY.at(unchecked=True),  # web.workspace_admin.calendar_add
    ("POST", "/admin/calendar/{exception_id}/delete"): perm("admin"),  # web.workspace_admin.calendar_remove
    ("GET", "/admin/channels"): perm("admin"),  # web.admin_channels.channels_page
    ("POST", "/admin/channels"): perm("admin"),  # web.admin_channels.channels_set
    ("POST", "/admin/channels/remove"): perm("admin").at(unchecked=True),  # web.admin_channels.channels_remove
    ("GET", "/admin/connectors"): perm("admin"),  # web.workspace_admin.connectors_page
    ("POST", "/admin/connectors"): perm("admin"),  # web.workspace_admin.connectors_add
    ("GET", "/admin/models"): perm("admin"),  # web.workspace_admin.models_page
    ("POST", "/admin/models/activate"): perm("admin").at(unchecked=True),  # web.workspace_admin.models_activate
    ("POST", "/admin/models/rollback"): perm("admin"),  # web.workspace_admin.models_rollback
    ("GET", "/admin/policies"): perm("admin"),  # web.workspace_admin.policies_page
    ("POST", "/admin/policies"): perm("admin"),  # web.workspace_admin.policies_add
    ("GET", "/admin/rules"): perm("admin"),  # web.workspace_admin.rules_page
    ("POST", "/admin/rules"): ANY.at(unchecked=True),  # web.workspace_admin.rules_add
    ("GET", "/admin/taxonomy"): perm("read"),  # web.admin_taxonomy.taxonomy_page
    ("POST", "/admin/taxonomy/activate"): perm("admin"),  # web.admin_taxonomy.taxonomy_activate
    ("POST", "/admin/taxonomy/lexicon"): perm("admin"),  # web.admin_taxonomy.taxonomy_lexicon
    ("POST", "/admin/taxonomy/reenrich"): perm("admin"),  # web.admin_taxonomy.reenrich_start
    ("POST", "/admin/taxonomy/rename"): perm("admin"),  # web.admin_taxonomy.taxonomy_rename
    ("POST", "/admin/taxonomy/subtopic"): perm("admin"),  # web.admin_taxonomy.taxonomy_add_subtopic
    ("POST", "/admin/taxonomy/urgency"): perm("admin"),  # web.admin_taxonomy.taxonomy_urgency
    ("GET", "/admin/users"): perm("admin"),  # web.views.users_page
    ("GET", "/admin/users/new"): perm("admin"),  # web.workspace_admin.user_new
    ("POST", "/admin/users/new"): ANY.at(unchecked=True),  # web.workspace_admin.user_create
    ("GET", "/analytics"): perm("analytics"),  # web.analytics_views.dashboard_page
    ("GET", "/analytics/compare"): perm("analytics"),  # web.analytics_views.compare_page
    ("GET", "/analytics/decisions"): perm("analytics"),  # web.analytics_decisions.decisions_page
    ("GET", "/analytics/decisions/new"): roles(Role.admin, Role.analyst),  # web.analytics_decisions.new_decision_page
    ("POST", "/analytics/decisions/new"): ANY.at(unchecked=True),  # web.analytics_decisions.create_decision
    ("GET", "/analytics/decisions/{decision_id}"): perm("analytics", "region"),  # web.analytics_decisions.decision_page
    ("POST", "/analytics/decisions/{decision_id}"): ANY.at(unchecked=True),  # web.analytics_decisions.update_decision
    ("GET", "/analytics/drill"): perm("analytics"),  # web.analytics_views.drill_page
    ("GET", "/analytics/reports"): perm("analytics"),  # web.analytics_reports.reports_page
    ("GET", "/analytics/reports/files/{file_id}"): perm("analytics", "region"),  # web.analytics_reports.download
    ("POST", "/analytics/reports/schedules"): roles(Role.admin, Role.analyst),  # web.analytics_reports.add_schedule
    ("POST", "/analytics/reports/schedules/{schedule_id}/{action}"): roles(Role.admin, Role.analyst, action="pause"),  # web.analytics_reports.change_schedule
    ("GET", "/api/docs"): PUBLIC,  # web.views.api_docs
    ("GET", "/api/openapi.json"): PUBLIC,  # fastapi.applications.openapi
    ("GET", "/api/v1/analytics/compare"): perm("analytics"),  # analytics.endpoints.compare
    ("GET", "/api/v1/analytics/dashboard"): perm("analytics"),  # analytics.endpoints.get_dashboard
    ("GET", "/api/v1/analytics/drill"): perm("analytics"),  # analytics.endpoints.drill
    ("GET", "/api/v1/analytics/findings"): perm("analytics"),  # analytics.endpoints.get_findings
    ("GET", "/api/v1/analytics/map/regions"): perm("analytics"),  # analytics.endpoints.map_regions
    ("GET", "/api/v1/analytics/ratings/{subject}"): perm("analytics", subject="executor"),  # analytics.endpoints.get_ratings
    ("GET", "/api/v1/audit"): perm("admin"),  # audit.endpoints.list_audit
    ("GET", "/api/v1/auth/csrf"): PUBLIC,  # accounts.endpoints.csrf
    ("POST", "/api/v1/auth/login"): PUBLIC.at(body={"username": "analyst", "password": PASSWORD}),  # accounts.endpoints.login
    ("POST", "/api/v1/auth/logout"): ANY,  # accounts.endpoints.logout
    ("POST", "/api/v1/calendar-exceptions"): ANY.at(unchecked=True),  # cases.endpoints.add_calendar_exception
    ("DELETE", "/api/v1/calendar-exceptions/{exception_id}"): perm("admin"),  # cases.endpoints.remove_calendar_exception
    ("GET", "/api/v1/campaigns"): perm("read"),  # participation.endpoints.list_campaigns
    ("POST", "/api/v1/campaigns"): ANY.at(unchecked=True),  # participation.endpoints.create_campaign
    ("GET", "/api/v1/campaigns/{campaign_id}"): perm("read", "region", hidden_for=frozenset({Role.executor})),  # participation.endpoints.get_campaign
    ("POST", "/api/v1/campaigns/{campaign_id}/collect"): perm("moderate", "region_wide"),  # participation.endpoints.collect
    ("POST", "/api/v1/campaigns/{campaign_id}/finish"): perm("moderate", "region_wide"),  # participation.endpoints.finish
    ("GET", "/api/v1/campaigns/{campaign_id}/groups"): perm("read", "region", hidden_for=frozenset({Role.executor})),  # participation.endpoints.groups
    ("POST", "/api/v1/campaigns/{campaign_id}/import"): ANY.at(unchecked=True),  # participation.endpoints.import_list
    ("POST", "/api/v1/campaigns/{campaign_id}/picks"): perm("moderate", "region_wide"),  # participation.endpoints.propose_picks
    ("GET", "/api/v1/campaigns/{campaign_id}/promises"): perm("read", "region", hidden_for=frozenset({Role.executor})),  # participation.endpoints.list_promises
    ("GET", "/api/v1/campaigns/{campaign_id}/questions"): perm("read", "region", hidden_for=frozenset({Role.executor})),  # participation.endpoints.list_questions
    ("GET", "/api/v1/campaigns/{campaign_id}/report"): perm("read", "region", hidden_for=frozenset({Role.executor})),  # participation.endpoints.report
    ("GET", "/api/v1/campaigns/{campaign_id}/sheet.{fmt}"): ANY.at(unchecked=True),  # participation.endpoints.sheet
    ("GET", "/api/v1/cases"): perm("read"),  # cases.endpoints.list_cases
    ("POST", "/api/v1/cases/merge"): perm("moderate", "case"),  # cases.endpoints.merge_cases
    ("GET", "/api/v1/cases/{case_id}"): perm("read", "case"),  # cases.endpoints.get_case
    ("PATCH", "/api/v1/cases/{case_id}"): perm("read", "case"),  # cases.endpoints.edit_case
    ("POST", "/api/v1/cases/{case_id}/actions/{action}"): perm("read", "case", action="route"),  # cases.endpoints.act
    ("PUT", "/api/v1/cases/{case_id}/assignee"): any_of("answer", "moderate", scope="case"),  # cases.endpoints.assign_case
    ("GET", "/api/v1/cases/{case_id}/assignees"): perm("read", "case"),  # cases.endpoints.list_assignees
    ("POST", "/api/v1/cases/{case_id}/split"): perm("moderate", "case"),  # cases.endpoints.split_case
    ("GET", "/api/v1/channel-places"): perm("read"),  # intake.endpoints.list_channel_places
    ("PUT", "/api/v1/channel-places"): perm("admin"),  # intake.endpoints.set_channel_place
    ("DELETE", "/api/v1/channel-places"): ANY.at(unchecked=True),  # intake.endpoints.remove_channel_place
    ("GET", "/api/v1/connectors"): perm("admin"),  # intake.endpoints.list_connectors
    ("POST", "/api/v1/connectors"): perm("admin"),  # intake.endpoints.add_connector
    ("GET", "/api/v1/contests"): any_of("contests", "contests.score"),  # contests.endpoints.list_contests
    ("POST", "/api/v1/contests"): ANY.at(unchecked=True),  # contests.endpoints.create
    ("GET", "/api/v1/contests/{contest_id}"): any_of("contests", "contests.score"),  # contests.endpoints.get
    ("PATCH", "/api/v1/contests/{contest_id}"): perm("contests"),  # contests.endpoints.update
    ("GET", "/api/v1/contests/{contest_id}/applications"): any_of("contests", "contests.score"),  # contests.endpoints.applications
    ("POST", "/api/v1/contests/{contest_id}/applications"): perm("contests"),  # contests.endpoints.add_application
    ("GET", "/api/v1/contests/{contest_id}/applications/{application_id}"): any_of("contests", "contests.score"),  # contests.endpoints.application
    ("GET", "/api/v1/contests/{contest_id}/applications/{application_id}/attachments/{attachment_id}"): perm("admin", "own", attachment_id="999999"),  # contests.endpoints.attachment
    ("POST", "/api/v1/contests/{contest_id}/applications/{application_id}/conflict"): perm("contests.score"),  # contests.endpoints.conflict
    ("POST", "/api/v1/contests/{contest_id}/applications/{application_id}/review"): perm("contests.score"),  # contests.endpoints.review
    ("GET", "/api/v1/contests/{contest_id}/applications/{application_id}/reviews"): perm("contests"),  # contests.endpoints.reviews
    ("GET", "/api/v1/contests/{contest_id}/experts"): perm("contests"),  # contests.endpoints.experts
    ("POST", "/api/v1/contests/{contest_id}/experts"): perm("contests"),  # contests.endpoints.assign
    ("GET", "/api/v1/contests/{contest_id}/protocol"): perm("contests"),  # contests.endpoints.protocol_file
    ("GET", "/api/v1/contests/{contest_id}/results"): perm("contests"),  # contests.endpoints.contest_results
    ("POST", "/api/v1/deadline-policies"): perm("admin"),  # cases.endpoints.add_policy
    ("GET", "/api/v1/decisions"): perm("analytics"),  # decisions.endpoints.list_decisions
    ("POST", "/api/v1/decisions"): ANY.at(unchecked=True),  # decisions.endpoints.create
    ("GET", "/api/v1/decisions/counts"): perm("analytics"),  # decisions.endpoints.counts
    ("GET", "/api/v1/decisions/{decision_id}"): perm("analytics", "region"),  # decisions.endpoints.get
    ("PATCH", "/api/v1/decisions/{decision_id}"): roles(Role.admin, Role.analyst, scope="region"),  # decisions.endpoints.update
    ("DELETE", "/api/v1/decisions/{decision_id}"): roles(Role.admin, Role.analyst, scope="region"),  # decisions.endpoints.delete
    ("GET", "/api/v1/decisions/{decision_id}/effect"): perm("analytics", "region"),  # decisions.endpoints.effect
    ("GET", "/api/v1/decisions/{decision_id}/messages"): perm("analytics", "region"),  # decisions.endpoints.messages
    ("POST", "/api/v1/extensions/{extension_id}/decision"): ANY.at(unchecked=True),  # cases.endpoints.decide_extension
    ("GET", "/api/v1/me"): USER,  # accounts.endpoints.me
    ("POST", "/api/v1/me/password"): perm("tokens"),  # accounts.endpoints.change_password
    ("GET", "/api/v1/messages"): perm("read", hidden_for=frozenset({Role.executor})),  # intake.endpoints.list_messages
    ("POST", "/api/v1/messages/batch"): perm("intake"),  # intake.endpoints.submit_batch
    ("GET", "/api/v1/messages/{message_id}"): perm("read", "region", hidden_for=frozenset({Role.executor})),  # intake.endpoints.get_message
    ("POST", "/api/v1/notices/{answer_id}/approve"): perm("moderate", "region"),  # participation.endpoints.approve_notice
    ("GET", "/api/v1/organizations"): perm("read"),  # organizations.endpoints.list_organizations
    ("POST", "/api/v1/organizations"): ANY.at(unchecked=True),  # organizations.endpoints.create_organization
    ("GET", "/api/v1/organizations/{organization_id}"): perm("read", "case"),  # organizations.endpoints.get_organization
    ("GET", "/api/v1/problems"): perm("read"),  # cases.endpoints.list_problems
    ("GET", "/api/v1/problems/{problem_id}"): perm("read", "case"),  # cases.endpoints.get_problem
    ("POST", "/api/v1/problems/{problem_id}/answer"): perm("moderate", "case"),  # cases.endpoints.answer_problem
    ("POST", "/api/v1/promises/{promise_id}/decision"): ANY.at(unchecked=True),  # participation.endpoints.promise_decision
    ("POST", "/api/v1/promises/{promise_id}/done"): perm("moderate", "region_wide"),  # participation.endpoints.promise_done
    ("POST", "/api/v1/promises/{promise_id}/stages"): perm("moderate", "region_wide"),  # participation.endpoints.stage_done
    ("GET", "/api/v1/proposals"): perm("read"),  # participation.endpoints.list_proposals
    ("POST", "/api/v1/proposals"): perm("moderate", "region"),  # participation.endpoints.create_proposal
    ("GET", "/api/v1/proposals/public"): PUBLIC,  # participation.endpoints.public
    ("GET", "/api/v1/proposals/{proposal_id}"): perm("read", "case"),  # participation.endpoints.get_proposal
    ("POST", "/api/v1/proposals/{proposal_id}/assign"): perm("moderate", "case"),  # participation.endpoints.assign
    ("GET", "/api/v1/proposals/{proposal_id}/events"): perm("read", "case"),  # participation.endpoints.proposal_events
    ("POST", "/api/v1/proposals/{proposal_id}/meetings"): any_of("answer", "moderate", scope="case"),  # participation.endpoints.meeting
    ("POST", "/api/v1/proposals/{proposal_id}/status"): any_of("answer", "moderate", scope="case"),  # participation.endpoints.change_status
    ("POST", "/api/v1/proposals/{proposal_id}/support"): ANY.at(unchecked=True),  # participation.endpoints.support
    ("POST", "/api/v1/push/{connector_id}"): PUBLIC.at(connector_id="999999"),  # intake.endpoints.push
    ("POST", "/api/v1/questions/{question_id}/answer"): perm("moderate", "region_wide"),  # participation.endpoints.answer
    ("POST", "/api/v1/questions/{question_id}/confirm"): perm("moderate", "region_wide"),  # participation.endpoints.confirm
    ("POST", "/api/v1/questions/{question_id}/promises"): ANY.at(unchecked=True),  # participation.endpoints.make_promise
    ("GET", "/api/v1/routing/report"): perm("read"),  # cases.endpoints.routing_report
    ("GET", "/api/v1/routing/rules"): perm("read").at(unchecked=True),  # cases.endpoints.list_rules
    ("POST", "/api/v1/routing/rules"): ANY.at(unchecked=True),  # cases.endpoints.add_rule
    ("GET", "/api/v1/territories"): perm("read"),  # territories.endpoints.list_territories
    ("GET", "/api/v1/territories/{territory_id}"): perm("read", "region"),  # territories.endpoints.get_territory
    ("GET", "/api/v1/tokens"): ANY,  # accounts.endpoints.list_tokens
    ("POST", "/api/v1/tokens"): perm("tokens", body={"name": "matrix", "scopes": ["tokens"]}),  # accounts.endpoints.create_token
    ("DELETE", "/api/v1/tokens/{token_id}"): perm("tokens", "own"),  # accounts.endpoints.revoke_token
    ("GET", "/api/v1/users"): perm("admin"),  # accounts.endpoints.list_users
    ("POST", "/api/v1/users"): ANY.at(unchecked=True),  # accounts.endpoints.create_user
    ("PATCH", "/api/v1/users/{user_id}"): perm("admin"),  # accounts.endpoints.update_user
    ("GET", "/cases"): perm("read"),  # web.workspace.queue_page
    ("POST", "/cases/bulk"): perm("moderate"),  # web.workspace.bulk_action
    ("GET", "/cases/new-count"): perm("read").at(unchecked=True),  # web.workspace.new_count
    ("POST", "/cases/views"): perm("read"),  # web.workspace.save_view
    ("POST", "/cases/views/{view_id}/delete"): perm("read", "own"),  # web.workspace.delete_view
    ("GET", "/cases/{case_id}"): perm("read", "case"),  # web.workspace.case_page
    ("POST", "/cases/{case_id}/assign"): any_of("answer", "moderate", scope="case"),  # web.workspace.case_assign
    ("POST", "/cases/{case_id}/do/{action}"): perm("read", "case", action="route"),  # web.workspace.case_action
    ("POST", "/cases/{case_id}/edit"): perm("read", "case"),  # web.workspace.case_edit
    ("POST", "/cases/{case_id}/split"): perm("moderate", "case"),  # web.workspace.case_split
    ("GET", "/contests"): any_of("contests", "contests.score"),  # web.contests.contests_page
    ("GET", "/contests/{contest_id}"): any_of("contests", "contests.score"),  # web.contests.contest_page
    ("GET", "/contests/{contest_id}/applications/{application_id}"): any_of("contests", "contests.score"),  # web.contests.application_page
    ("POST", "/contests/{contest_id}/applications/{application_id}/conflict"): perm("contests.score", "contest").at(unchecked=True),  # web.contests.conflict_submit
    ("POST", "/contests/{contest_id}/applications/{application_id}/review"): perm("contests.score", "contest").at(unchecked=True),  # web.contests.review_submit
    ("GET", "/contests/{contest_id}/apply"): PUBLIC,  # web.contests_public.apply_page
    ("POST", "/contests/{contest_id}/apply"): PUBLIC.at(unchecked=True),  # web.contests_public.apply_submit
    ("POST", "/contests/{contest_id}/experts"): perm("contests", "contest").at(unchecked=True),  # web.contests.contest_expert
    ("POST", "/contests/{contest_id}/import"): perm("contests", "contest").at(unchecked=True),  # web.contests.contest_import
    ("GET", "/contests/{contest_id}/results"): perm("contests"),  # web.contests.results_page
    ("POST", "/contests/{contest_id}/status"): perm("contests", "contest").at(unchecked=True),  # web.contests.contest_status
    ("POST", "/extensions/{extension_id}/decide"): perm("approve_extension", "case"),  # web.workspace_review.decide_extension
    ("GET", "/form"): PUBLIC,  # web.form.form_page
    ("POST", "/form"): PUBLIC.at(unchecked=True),  # web.form.form_submit
    ("GET", "/healthz"): PUBLIC,  # ops.endpoints.healthz
    ("GET", "/lang/{code}"): PUBLIC.at(code="en"),  # web.views.switch_language
    ("GET", "/login"): PUBLIC,  # web.views.login_page
    ("POST", "/login"): PUBLIC.at(unchecked=True),  # web.views.login_submit
    ("POST", "/logout"): ANY.at(note="answers with the login form"),  # web.views.logout
    ("GET", "/media/photos/{key}"): PUBLIC.at(key="0"*64 + ".jpg"),  # media.endpoints.photo
    ("GET", "/metrics"): PUBLIC,  # ops.endpoints.prometheus_metrics
    ("GET", "/moderation"): perm("moderate"),  # web.workspace_review.moderation_page
    ("GET", "/my"): perm("answer"),  # web.workspace.my_cases
    ("GET", "/open311/v2/discovery.{fmt}"): PUBLIC,  # open311.endpoints.discovery
    ("POST", "/open311/v2/requests.{fmt}"): PUBLIC.at(body={"api_key": "{secret:key_open311}"}),  # open311.endpoints.create_request
    ("GET", "/open311/v2/requests.{fmt}"): PUBLIC,  # open311.endpoints.requests
    ("GET", "/open311/v2/requests/{request_id}.{fmt}"): PUBLIC.at(request_id="999999999"),  # open311.endpoints.request_by_id
    ("GET", "/open311/v2/services.{fmt}"): PUBLIC,  # open311.endpoints.services
    ("GET", "/open311/v2/services/{code}.{fmt}"): PUBLIC.at(code="roads"),  # open311.endpoints.service_definition
    ("GET", "/open311/v2/tokens/{token}.{fmt}"): PUBLIC.at(token="matrix-unknown"),  # open311.endpoints.token
    ("GET", "/organizations"): perm("read"),  # web.views.organizations_page
    ("GET", "/participation"): perm("read"),  # web.participation.lines_page
    ("POST", "/participation/lines"): ANY,  # web.participation.create_line
    ("GET", "/participation/lines/{campaign_id}"): perm("read", "region", hidden_for=frozenset({Role.executor})),  # web.participation.line_page
    ("POST", "/participation/lines/{campaign_id}/collect"): perm("moderate", "region_wide"),  # web.participation.collect
    ("POST", "/participation/lines/{campaign_id}/finish"): perm("moderate", "region_wide"),  # web.participation.finish
    ("POST", "/participation/lines/{campaign_id}/import"): ANY,  # web.participation.import_list
    ("POST", "/participation/lines/{campaign_id}/picks"): perm("moderate", "region_wide"),  # web.participation.picks
    ("POST", "/participation/promises/{promise_id}/done"): perm("moderate", "region_wide"),  # web.participation.promise_done
    ("POST", "/participation/promises/{promise_id}/stages/{index}"): perm("moderate", "region_wide", index="0"),  # web.participation.stage_done
    ("GET", "/participation/proposals"): PUBLIC,  # web.participation_proposals.public_page
    ("POST", "/participation/questions/{question_id}/answer"): perm("moderate", "region_wide"),  # web.participation.answer
    ("POST", "/participation/questions/{question_id}/confirm"): perm("moderate", "region_wide"),  # web.participation.confirm
    ("POST", "/participation/questions/{question_id}/promise"): perm("read", "region", hidden_for=frozenset({Role.executor})),  # web.participation.promise
    ("GET", "/participation/review"): perm("read"),  # web.participation_proposals.review_page
    ("GET", "/participation/review/{proposal_id}"): perm("read", "case"),  # web.participation_proposals.proposal_page
    ("POST", "/participation/review/{proposal_id}/assign"): perm("moderate", "case"),  # web.participation_proposals.assign
    ("POST", "/participation/review/{proposal_id}/meeting"): ANY,  # web.participation_proposals.meeting
    ("POST", "/participation/review/{proposal_id}/notices/{answer_id}"): perm("moderate", "case"),  # web.participation_proposals.approve
    ("POST", "/participation/review/{proposal_id}/status"): any_of("answer", "moderate", scope="case"),  # web.participation_proposals.status
    ("GET", "/problems"): perm("read"),  # web.workspace_review.problems_page
    ("GET", "/problems/{problem_id}"): perm("read", "case"),  # web.workspace_review.problem_page
    ("POST", "/problems/{problem_id}/answer"): perm("moderate", "case"),  # web.workspace_review.problem_answer
    ("GET", "/readyz"): PUBLIC,  # ops.endpoints.readyz
    ("GET", "/territories"): perm("read"),  # web.views.territories_page
    ("GET", "/triage"): perm("moderate"),  # web.workspace_review.triage_page
}
