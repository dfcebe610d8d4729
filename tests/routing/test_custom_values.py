"""The one check of custom field values (pure): every type, both audiences, required and unknown fields."""

from __future__ import annotations

import re
from datetime import UTC, timedelta, timezone

import pytest

from socdesk.routing.custom_values import FieldSpec, check_values, clean_value, display_value

HOST = FieldSpec("host_ip", "Host IP", "ip")
TICKET = FieldSpec("ref", "Reference", "text", agent_required=True, user_visible=False)
IMPACT = FieldSpec("impact", "Impact", "choice", choices=("Low", "High"), user_required=True)
SYSTEMS = FieldSpec("systems", "Systems", "multi_choice", choices=("mail", "vpn", "erp"))
FORM = (HOST, TICKET, IMPACT, SYSTEMS)


@pytest.mark.parametrize(
    ("kind", "value", "stored"),
    [
        ("text", "  a   b ", "a b"),
        ("text", 42, "42"),
        ("long_text", "line 1\n  line 2 ", "line 1\n  line 2"),
        ("number", "12", 12),
        ("number", "1,5", 1.5),
        ("number", 3.0, 3),
        ("number", -7, -7),
        ("datetime", "2026-03-01T14:30", "2026-03-01T14:30:00+00:00"),
        ("datetime", "2026-03-01T14:30:00+02:00", "2026-03-01T12:30:00+00:00"),
        ("datetime", "2026-03-01T14:30:00Z", "2026-03-01T14:30:00+00:00"),
        ("datetime", "2026-03-01", "2026-03-01T00:00:00+00:00"),
        ("datetime", 1772375400000, "2026-03-01T14:30:00+00:00"),
        ("datetime", "1772375400000", "2026-03-01T14:30:00+00:00"),
        ("choice", "high", "High"),
        ("multi_choice", ["VPN", "mail", "vpn"], ["mail", "vpn"]),
        ("multi_choice", "erp, mail", ["mail", "erp"]),
        ("checkbox", True, True),
        ("checkbox", "on", True),
        ("checkbox", "no", False),
        ("email", " soc@example.org ", "soc@example.org"),
        ("ip", "10.0.0.5", "10.0.0.5"),
        ("ip", "2001:DB8:0::1", "2001:db8::1"),
    ],
)
def test_values_are_stored_typed(kind, value, stored):
    spec = FieldSpec("f", "F", kind, choices=("Low", "High", "mail", "vpn", "erp"))
    assert clean_value(spec, value) == stored


@pytest.mark.parametrize(
    ("kind", "value", "says"),
    [
        ("text", "x" * 256, "at most 255 characters"),
        ("text", ["a"], "enter text"),
        ("long_text", "x" * 10_001, "at most 10000 characters"),
        ("number", "twelve", "'twelve' is not a number"),
        ("number", True, "enter a number"),
        ("number", "nan", "finite"),
        ("datetime", "next tuesday", "is not a date and time"),
        ("datetime", 10**30, "out of range"),
        ("choice", "Medium", "'Medium' is not one of its choices (Low, High"),
        ("multi_choice", {"a": 1}, "send a list of choices"),
        ("multi_choice", ["mail", "fax"], "'fax' is not one of its choices"),
        ("checkbox", "maybe", "send true or false"),
        ("email", "soc at example", "is not an email address"),
        ("ip", "10.0.0.256", "is not an IP address"),
        ("ip", "host-1", "is not an IP address"),
    ],
)
def test_bad_values_are_refused_with_a_sentence(kind, value, says):
    spec = FieldSpec("f", "F", kind, choices=("Low", "High", "mail", "vpn", "erp"))
    with pytest.raises(ValueError, match=re.escape(says)):
        clean_value(spec, value)


def test_a_date_without_offset_is_read_in_the_local_time_zone():
    paris_winter = timezone(timedelta(hours=1))
    spec = FieldSpec("seen", "Seen", "datetime")
    assert clean_value(spec, "2026-01-10T09:00", local_tz=paris_winter) == "2026-01-10T08:00:00+00:00"
    assert clean_value(spec, "2026-01-10T09:00", local_tz=UTC) == "2026-01-10T09:00:00+00:00"


def test_agents_must_fill_what_is_required_of_agents_only():
    checked = check_values(FORM, {"host_ip": "10.1.1.1"}, audience="agent", form_name="Incident")
    assert checked.errors == {"ref": "Custom field 'Reference' (ref) is required."}
    assert checked.values == {"host_ip": "10.1.1.1"}
    ok = check_values(FORM, {"ref": "CHG-1", "impact": ""}, audience="agent")
    assert ok.errors == {} and ok.values == {"ref": "CHG-1"}


def test_end_users_fill_their_own_required_fields_and_cannot_set_hidden_ones():
    checked = check_values(FORM, {"ref": "CHG-1"}, audience="user")
    assert checked.errors == {
        "ref": "Custom field 'Reference' (ref) is not one you can fill in.",
        "impact": "Custom field 'Impact' (impact) is required.",
    }
    assert check_values(FORM, {"impact": "low"}, audience="user").values == {"impact": "Low"}


def test_keys_follow_the_agents_flags():
    assert check_values(FORM, {"impact": "High"}, audience="key").errors == {
        "ref": "Custom field 'Reference' (ref) is required."
    }


def test_unknown_names_are_refused_naming_the_form_or_dropped_for_alerts():
    refused = check_values(FORM, {"ref": "x", "colour": "red"}, audience="agent", form_name="Incident")
    assert refused.errors == {
        "colour": "'colour' is not a field of the form 'Incident' "
        "(its fields: host_ip, ref, impact, systems)."
    }
    dropped = check_values(
        FORM, {"colour": "red", "host_ip": "10.0.0.1"}, audience="key", unknown="drop", require=False
    )
    assert dropped.errors == {} and dropped.values == {"host_ip": "10.0.0.1"}


def test_names_are_read_case_blind_and_bad_values_name_the_field():
    checked = check_values(FORM, {"Host_IP": "nope", "ref": "x"}, audience="agent")
    assert checked.errors == {
        "host_ip": "Custom field 'Host IP' (host_ip): 'nope' is not an IP address (such as 10.0.0.5 or "
        "2001:db8::1)."
    }
    assert "host_ip" in checked.message


def test_display_values():
    assert display_value(FieldSpec("c", "C", "checkbox"), False) == "No"
    assert display_value(SYSTEMS, ["mail", "vpn"]) == "mail, vpn"
    assert (
        display_value(FieldSpec("d", "D", "datetime"), "2026-03-01T12:30:00+00:00") == "2026-03-01 12:30 UTC"
    )
    assert display_value(HOST, None) == ""
