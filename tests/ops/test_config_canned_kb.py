"""Canned responses, a filter's reply_canned and the knowledge base's categories as configuration."""

from __future__ import annotations

import textwrap

import pytest
import yaml

from socdesk.core.actor import Actor
from socdesk.kb.models import Category
from socdesk.kb.services import article_create, category_create
from socdesk.mail.canned import canned_response_create
from socdesk.mail.models import CannedResponse
from socdesk.ops.config.document import ConfigInvalid
from socdesk.ops.config.engine import config_apply, config_export
from socdesk.routing.models import FilterRule
from socdesk.routing.services.filters import FilterDefinition, filter_create

ACTOR = Actor.system("config")
pytestmark = pytest.mark.django_db


def apply(text: str, **kwargs):
    return {
        (c.kind, c.name): c.outcome for c in config_apply(actor=ACTOR, text=textwrap.dedent(text), **kwargs)
    }


def test_export_names_canned_responses_and_filters_name_them_too(people):
    soc = canned_response_create(
        actor=ACTOR, title="Acknowledge", body="Got {{ ticket.number }}.", department=people.soc
    )
    canned_response_create(actor=ACTOR, title="Acknowledge", body="Thanks.")
    filter_create(
        actor=ACTOR,
        definition=FilterDefinition(
            name="Ack phishing",
            conditions=[{"field": "subject", "operator": "contains", "value": "phish"}],
            actions=[{"type": "reply_canned", "value": soc.pk}],
        ),
    )
    category_create(actor=ACTOR, name="Phishing", description="Reported e-mail", order=1)
    data = yaml.safe_load(config_export())
    assert data["canned_responses"] == [
        {"title": "Acknowledge", "department": None, "body": "Thanks."},
        {"title": "Acknowledge", "department": "SOC", "body": "Got {{ ticket.number }}."},
    ]
    [rule] = data["filters"]
    assert rule["actions"] == [{"type": "reply_canned", "value": "SOC/Acknowledge"}]
    assert data["kb_categories"] == [{"name": "Phishing", "description": "Reported e-mail", "order": 1}]
    # The same file applied again changes nothing.
    outcomes = apply(config_export())
    assert set(outcomes.values()) == {"unchanged"}


def test_apply_creates_updates_and_prunes(people):
    category_create(actor=ACTOR, name="Old")
    text = """\
        version: 1
        canned_responses:
          - title: Password reset
            department: SOC
            body: |
              Hello {{ requester.name }},
              your password was reset.
        filters:
          - name: Reset replies
            conditions:
              - {field: subject, operator: contains, value: password}
            actions:
              - {type: reply_canned, value: SOC/Password reset}
        kb_categories:
          - name: Access
            order: 2
    """
    outcomes = apply(text, prune=True)
    assert outcomes[("canned_responses", "SOC/Password reset")] == "created"
    assert outcomes[("kb_categories", "Access")] == "created"
    assert outcomes[("kb_categories", "Old")] == "deleted"
    canned = CannedResponse.objects.get()
    assert canned.body == "Hello {{ requester.name }},\nyour password was reset."
    assert FilterRule.objects.get().actions == [{"type": "reply_canned", "value": canned.pk}]
    assert set(apply(text).values()) == {"unchanged"}
    assert list(Category.objects.values_list("name", flat=True)) == ["Access"]


def test_a_template_error_or_unknown_name_is_refused_and_nothing_is_written(people):
    text = """\
        version: 1
        filters:
          - name: Ghost
            conditions:
              - {field: subject, operator: contains, value: x}
            actions:
              - {type: reply_canned, value: Nowhere}
    """
    with pytest.raises(ConfigInvalid) as refused:
        apply(text)
    assert "there is no canned response named 'Nowhere'" in str(refused.value.problems[0])
    bad = (
        "version: 1\ncanned_responses:\n  - title: Fine\n    body: ok\n"
        "  - title: Broken\n    body: '{% if x %}'\n"
    )
    with pytest.raises(ConfigInvalid) as refused:
        apply(bad)
    problem = str(refused.value.problems[0])
    assert problem.startswith("line 6, canned_responses[1].body: The body has an error on line 1")
    assert not CannedResponse.objects.exists()  # the whole file is refused


def test_a_category_with_articles_is_kept_by_prune(people):
    category = category_create(actor=ACTOR, name="Phishing")
    article_create(actor=Actor.for_agent(people.alice), title="Triage", body="x", category=category)
    with pytest.raises(ConfigInvalid) as refused:
        apply("version: 1\nkb_categories: []\n", prune=True)
    assert "holds 1 article; move or delete them first" in str(refused.value.problems[0])
    assert Category.objects.filter(name="Phishing").exists()
