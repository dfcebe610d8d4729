"""A restricted agent's queue filters offer only the departments, agents and teams they may see, and a
submitted id outside that is dropped without telling whether it exists."""

from __future__ import annotations

import re

from tests.console_helpers import client_for


def _options(html: str, select_id: str) -> set[str]:
    select = html.split(f'id="{select_id}"')[1].split("</select>")[0]
    return set(re.findall(r'<option value="[^"]*"[^>]*>([^<]*)</option>', select))


def test_carol_sees_only_her_department_and_its_people(people, soc_ticket):
    html = client_for(people.carol).get("/tickets/").content.decode()
    assert _options(html, "f-department") == {"Any", "IT Help Desk"}
    assert _options(html, "f-assignee") == {"Any", "Unassigned", "Carol"}
    assert _options(html, "f-team") == {"Any"}  # Tier 1 is SOC's
    # The bulk lists name nobody she cannot see either.
    assert "Alice" not in _options(html, "id_assignee") and "Tier 1" not in _options(html, "id_team")


def test_alice_sees_soc_and_her_team(people, soc_ticket):
    html = client_for(people.alice).get("/tickets/").content.decode()
    assert _options(html, "f-department") == {"Any", "SOC"}
    assert _options(html, "f-assignee") == {"Any", "Unassigned", "Alice", "Bob"}
    assert _options(html, "f-team") == {"Any", "Tier 1"}


def test_an_admin_sees_everything(people, soc_ticket):
    html = client_for(people.admin).get("/tickets/").content.decode()
    assert _options(html, "f-department") == {"Any", "SOC", "IT Help Desk"}
    assert {"Alice", "Bob", "Carol", "admin"} <= _options(html, "f-assignee")


def test_a_foreign_id_is_dropped_like_a_missing_one(people, soc_ticket):
    carol = client_for(people.carol)
    foreign = carol.get(f"/tickets/?queue=all&department={people.soc.pk}").content.decode()
    missing = carol.get("/tickets/?queue=all&department=999999").content.decode()
    assert f"There is no department {people.soc.pk} among those you can filter by" in foreign
    assert "There is no department 999999 among those you can filter by" in missing
    assert soc_ticket.number not in foreign
    assert _options(foreign, "f-department") == {"Any", "IT Help Desk"}  # nothing selected, nothing named
    others = f"assignee={people.alice.pk}&team={people.tier1.pk}"
    html = carol.get(f"/tickets/?queue=all&{others}").content.decode()
    assert f"There is no assignee {people.alice.pk} among those" in html
    assert f"There is no team {people.tier1.pk} among those" in html


def test_a_seen_id_still_filters(people, soc_ticket):
    html = client_for(people.alice).get(f"/tickets/?queue=all&department={people.soc.pk}").content.decode()
    assert soc_ticket.number in html and "among those you can filter by" not in html
