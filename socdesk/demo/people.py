"""The demo's organisation and people: departments, roles, agents, teams, customer organisations,
contacts, and the API key its integrations use. Rows that already exist under the same names are reused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from socdesk.accounts.choices import Perm
from socdesk.accounts.models import Agent, Contact, Department, Organisation, Role, Team
from socdesk.accounts.services import (
    access_grant,
    agent_create,
    apikey_create,
    contact_get_or_create,
    department_create,
    organisation_create,
    role_create,
    team_create,
)
from socdesk.core.actor import Actor

SETUP = Actor.system("demo")  # who the demo's set-up is, in the audit trail

DEPARTMENTS = [
    ("SOC", "soc@northwind.example", "Security Operations Center: alert triage, investigation, response."),
    ("IT Help Desk", "helpdesk@northwind.example", "Accounts, passwords, devices and access requests."),
    ("Threat Intel", "cti@northwind.example", "Indicator sweeps, advisories and threat hunting."),
]
ROLES: dict[str, list[str]] = {
    "Analyst": [p for p in Perm.values if p not in (Perm.DELETE, Perm.MANAGE, Perm.SHARE_QUEUES)],
    "Lead": list(Perm.values),
    "Observer": [Perm.VIEW],
}
# username, first, last, {department: role}
AGENTS = [
    ("maya.chen", "Maya", "Chen", {"SOC": "Analyst"}),
    ("liam.okafor", "Liam", "Okafor", {"SOC": "Analyst"}),
    ("sofia.rossi", "Sofia", "Rossi", {"SOC": "Analyst", "Threat Intel": "Observer"}),
    ("arjun.patel", "Arjun", "Patel", {"SOC": "Lead"}),
    ("noah.schmidt", "Noah", "Schmidt", {"SOC": "Lead", "Threat Intel": "Analyst"}),
    ("emma.dubois", "Emma", "Dubois", {"Threat Intel": "Lead", "SOC": "Observer"}),
    ("lucas.silva", "Lucas", "Silva", {"IT Help Desk": "Lead"}),
    ("hana.sato", "Hana", "Sato", {"IT Help Desk": "Analyst", "SOC": "Observer"}),
]
# name, department, lead, members
TEAMS = [
    ("Tier 1", "SOC", "maya.chen", ["maya.chen", "liam.okafor"]),
    ("Tier 2", "SOC", "arjun.patel", ["sofia.rossi", "arjun.patel"]),
    ("Incident Response", "SOC", "noah.schmidt", ["noah.schmidt", "arjun.patel", "sofia.rossi"]),
    ("Service Desk", "IT Help Desk", "lucas.silva", ["lucas.silva", "hana.sato"]),
]
ORGANISATIONS = [
    ("Northwind Logistics", "northwind.example"),
    ("Contoso Finance", "contoso.example"),
    ("Fabrikam Health", "fabrikam.example"),
]
CONTACTS = [
    ("dana.reyes@northwind.example", "Dana Reyes", "+1 555 0101"),
    ("omar.haddad@northwind.example", "Omar Haddad", "+1 555 0102"),
    ("grace.lin@northwind.example", "Grace Lin", ""),
    ("tom.becker@northwind.example", "Tom Becker", "+1 555 0104"),
    ("priya.nair@contoso.example", "Priya Nair", "+44 20 7946 0011"),
    ("felix.wagner@contoso.example", "Felix Wagner", ""),
    ("chloe.martin@contoso.example", "Chloe Martin", "+44 20 7946 0013"),
    ("ivan.petrov@fabrikam.example", "Ivan Petrov", ""),
    ("amara.diallo@fabrikam.example", "Amara Diallo", "+33 1 70 36 00 14"),
    ("ben.carter@fabrikam.example", "Ben Carter", ""),
    ("yuki.tanaka@northwind.example", "Yuki Tanaka", ""),
    ("leo.moreau@contoso.example", "Leo Moreau", "+44 20 7946 0017"),
]


@dataclass
class People:
    """Everyone the demo created (or found), by name, for the tickets to be about and worked by."""

    departments: dict[str, Department] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    agents: dict[str, Agent] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    contacts: list[Contact] = field(default_factory=list)
    api_actor: Actor | None = None

    def workers_of(self, department: str) -> list[Agent]:
        """Agents who may work tickets in the department (not mere observers)."""
        return [
            self.agents[username]
            for username, _f, _l, access in AGENTS
            if access.get(department) in ("Analyst", "Lead")
        ]


def people_create(*, password: str | None) -> People:
    """Departments, roles, agents, teams, organisations, contacts, an API key (existing ones reused).

    Agents get `password`, or an unusable one when it is None.
    """
    people = People()
    for name, email, description in DEPARTMENTS:
        people.departments[name] = Department.objects.filter(name__iexact=name).first() or department_create(
            actor=SETUP, name=name, email=email, description=description
        )
    for name, perms in ROLES.items():
        people.roles[name] = Role.objects.filter(name__iexact=name).first() or role_create(
            actor=SETUP, name=name, permissions=perms
        )
    for username, first, last, access in AGENTS:
        agent = Agent.objects.filter(user__username__iexact=username).first()
        if agent is None:
            agent = agent_create(
                actor=SETUP,
                username=username,
                email=f"{username}@northwind.example",
                password=password,
                first_name=first,
                last_name=last,
            )
            for dept, role in access.items():
                access_grant(
                    actor=SETUP, agent=agent, department=people.departments[dept], role=people.roles[role]
                )
        people.agents[username] = agent
    for name, dept, lead, members in TEAMS:
        people.teams[name] = Team.objects.filter(name__iexact=name).first() or team_create(
            actor=SETUP,
            name=name,
            department=people.departments[dept],
            lead=people.agents[lead],
            members=[people.agents[m] for m in members],
        )
    for name, domain in ORGANISATIONS:
        if not Organisation.objects.filter(name__iexact=name).exists():
            organisation_create(actor=SETUP, name=name, domain=domain)
    for email, name, phone in CONTACTS:
        people.contacts.append(contact_get_or_create(actor=SETUP, email=email, name=name, phone=phone))
    # Integrations authenticate with API keys; the secret is discarded at once (nobody can use it).
    key, _secret = apikey_create(actor=SETUP, name="SOAR playbooks (demo)", scopes=["tickets:create"])
    people.api_actor = Actor.for_api_key(key, ip="10.20.0.15")
    return people
