"""Realistic demo data: a SOC, an IT help desk and a threat-intel team with a month of tickets.

Everything is written through the services, so the audit trail records it like any other change and
`socdesk audit verify` passes. Seeding is idempotent: it records a `demo.seeded` audit event and does
nothing when one exists. The random generator is seeded, so two installs get the same story.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

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
from socdesk.audit.models import AuditEvent
from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.tickets import services as tickets
from socdesk.tickets.choices import Resolution, Severity, Source, Status
from socdesk.tickets.models import ThreadEntry, Ticket

DEMO_ACTION = "demo.seeded"
SETUP = Actor.system("demo")

DEPARTMENTS = [
    ("SOC", "soc@northwind.example", "Security Operations Center: alert triage, investigation, response."),
    ("IT Help Desk", "helpdesk@northwind.example", "Accounts, passwords, devices and access requests."),
    ("Threat Intel", "cti@northwind.example", "Indicator sweeps, advisories and threat hunting."),
]
ROLES = {
    "Analyst": [p for p in Perm.values if p not in (Perm.DELETE, Perm.MANAGE)],
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

HOSTS = ["WS-0142", "WS-0217", "LT-FIN-031", "LT-HR-008", "SRV-DC01", "SRV-FILE02", "SRV-WEB03", "LT-DEV-112"]
USERS = ["d.reyes", "o.haddad", "g.lin", "t.becker", "p.nair", "f.wagner", "c.martin", "y.tanaka"]
BAD_IPS = ["185.220.101.34", "45.155.205.233", "193.42.33.14", "91.240.118.172", "103.75.190.11"]
BAD_DOMAINS = [
    "cdn-update-check.net",
    "login-microsoftonline.help",
    "stats-telemetry.xyz",
    "docs-share.click",
]
COUNTRIES = ["Germany", "Brazil", "Vietnam", "Nigeria", "Romania", "Canada", "Singapore"]
CVES = ["CVE-2024-3400", "CVE-2023-4966", "CVE-2024-21762", "CVE-2023-34362", "CVE-2024-1709"]
LURES = ["Invoice overdue", "Your mailbox is almost full", "DocuSign: contract to review", "Payroll update"]
FILES = ["invoice_0423.html", "scan_20260311.iso", "remittance.xlsm", "voice_message.htm"]
FOLLOW_UPS = ["Thanks, that worked.", "Understood, thank you!", "Got it, thanks for the quick answer."]
PHISHING_FOLLOW_UPS = ["I clicked the link before I noticed, sorry. Should I do anything else?"]
CAMPAIGNS = ["QakBot resurgence", "Scattered Spider help-desk vishing", "Lumma Stealer via fake CAPTCHA"]


@dataclass
class Scenario:
    """A kind of ticket the demo generates: how it is opened, worked and usually resolved."""

    department: str
    sources: list[str]
    subject: str
    body: str
    severities: list[str]
    tags: list[str]
    notes: list[str]
    replies: list[str] = field(default_factory=list)
    verdicts: list[str] = field(default_factory=lambda: [Resolution.TRUE_POSITIVE])
    tool: str = ""
    team: str = ""
    escalate_to: str = ""
    weight: int = 1


SCENARIOS = [
    Scenario(
        "SOC",
        [Source.ALERT],
        "EDR: encoded PowerShell spawned by winword.exe on {host}",
        "CrowdStrike Falcon detected `powershell.exe -enc ...` launched by WINWORD.EXE on {host} "
        "(user {user}). Parent document: {file}.",
        [Severity.HIGH, Severity.CRITICAL],
        ["edr", "powershell", "initial-access"],
        [
            "Process tree reviewed: macro-enabled document from an external sender, PowerShell reached out "
            "to {domain}. Host isolated via EDR.",
            "Decoded payload is a stager for a commodity loader. No lateral movement seen in the last 24h.",
        ],
        verdicts=[Resolution.TRUE_POSITIVE, Resolution.TRUE_POSITIVE, Resolution.BENIGN_POSITIVE],
        tool="CrowdStrike Falcon",
        team="Tier 1",
        escalate_to="Incident Response",
        weight=3,
    ),
    Scenario(
        "SOC",
        [Source.ALERT],
        "Brute force: {n} failed logins for {user} from {ip}",
        "Wazuh rule 5712: {n} authentication failures for {user} from {ip} in 10 minutes (sshd on {host}).",
        [Severity.MEDIUM, Severity.HIGH],
        ["brute-force", "identity"],
        [
            "Source {ip} is a known Tor exit node; no successful login followed. Blocked at the edge.",
            "Account {user} was not locked; password is in the breached list, forced a reset with IT.",
        ],
        verdicts=[Resolution.FALSE_POSITIVE, Resolution.BENIGN_POSITIVE, Resolution.TRUE_POSITIVE],
        tool="Wazuh",
        team="Tier 1",
        weight=3,
    ),
    Scenario(
        "SOC",
        [Source.ALERT],
        "Impossible travel: {user} signed in from {country} and {country2} within {m} minutes",
        "Microsoft Sentinel: successful sign-ins for {user}@northwind.example from {country} and "
        "{country2} {m} minutes apart. Second sign-in from {ip} (no MFA prompt, legacy protocol).",
        [Severity.MEDIUM, Severity.HIGH],
        ["identity", "entra-id", "impossible-travel"],
        [
            "Second sign-in came from the corporate VPN egress in {country2}; user confirmed travel.",
            "Sessions revoked and MFA re-registration required; mailbox rules checked, none added.",
        ],
        replies=["Hi, did you sign in from {country2} today? Please reply or call the SOC at ext. 4400."],
        verdicts=[Resolution.BENIGN_POSITIVE, Resolution.FALSE_POSITIVE, Resolution.TRUE_POSITIVE],
        tool="Microsoft Sentinel",
        team="Tier 1",
        weight=2,
    ),
    Scenario(
        "SOC",
        [Source.ALERT],
        "Malware beacon: {host} contacting {domain} every 60 s",
        "Suricata ET MALWARE signature and Zeek conn logs show {host} beaconing to {domain} ({ip}) at a "
        "fixed 60-second interval since {m} minutes.",
        [Severity.HIGH, Severity.CRITICAL],
        ["c2", "network", "malware"],
        [
            "Beacon matches Cobalt Strike malleable profile. Host isolated, memory image collected.",
            "Domain {domain} sinkholed in DNS; sweeping proxy logs for other clients.",
        ],
        tool="Suricata",
        team="Tier 2",
        escalate_to="Incident Response",
        weight=2,
    ),
    Scenario(
        "SOC",
        [Source.ALERT, Source.API],
        "Vulnerability scan: {cve} found on {n} hosts",
        "Tenable scan 'External perimeter weekly' found {cve} on {n} hosts, including {host}.",
        [Severity.MEDIUM, Severity.HIGH, Severity.LOW],
        ["vulnerability", "patching"],
        ["Patch available from the vendor; change request raised with IT for the next window."],
        verdicts=[Resolution.TRUE_POSITIVE, Resolution.NOT_APPLICABLE],
        tool="Tenable",
        team="Tier 2",
        weight=2,
    ),
    Scenario(
        "SOC",
        [Source.EMAIL, Source.WEB],
        "Phishing report: \u201c{lure}\u201d",
        "Hi SOC, I received an email titled \u201c{lure}\u201d asking me to sign in on {domain}. "
        "I did not click. Forwarding it as an attachment.",
        [Severity.MEDIUM, Severity.LOW],
        ["phishing", "user-report"],
        [
            "Headers show a lookalike sender domain; URL leads to a credential-harvesting kit. "
            "Purged from 14 mailboxes, sender blocked.",
            "Checked proxy logs: two users visited the URL, neither submitted credentials.",
        ],
        replies=[
            "Thank you for reporting this, it was indeed phishing. We removed it from all mailboxes.",
            "Thanks! This one was a legitimate marketing email from our payroll provider.",
        ],
        verdicts=[Resolution.TRUE_POSITIVE, Resolution.TRUE_POSITIVE, Resolution.FALSE_POSITIVE],
        team="Tier 1",
        weight=4,
    ),
    Scenario(
        "SOC",
        [Source.EMAIL],
        "Suspicious attachment {file} received by finance",
        "Our AP mailbox received {file} from an unknown supplier. Can you check it before we open it?",
        [Severity.MEDIUM, Severity.HIGH],
        ["phishing", "attachment"],
        ["Detonated in the sandbox: HTML smuggling dropping an ISO with a LNK loader. Blocked hash."],
        replies=["Please do not open it. It is malicious and has been blocked for everyone."],
        tool="",
        team="Tier 1",
        weight=2,
    ),
    Scenario(
        "SOC",
        [Source.ALERT],
        "DLP: {n} files uploaded to personal cloud storage by {user}",
        "Netskope DLP: {user} uploaded {n} files labelled Confidential to a personal Dropbox from {host}.",
        [Severity.MEDIUM],
        ["dlp", "insider"],
        ["Files were team rota spreadsheets; manager confirmed the business need. User reminded of policy."],
        verdicts=[Resolution.BENIGN_POSITIVE, Resolution.TRUE_POSITIVE],
        tool="Netskope",
        team="Tier 2",
    ),
    Scenario(
        "SOC",
        [Source.API],
        "GuardDuty: UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B from {ip}",
        "AWS GuardDuty (account prod-eu) reported a console login for IAM user ci-deployer from {ip}, "
        "an address never seen for this principal.",
        [Severity.HIGH],
        ["cloud", "aws", "identity"],
        ["Access keys rotated, console access removed from ci-deployer; CloudTrail reviewed for 7 days."],
        verdicts=[Resolution.TRUE_POSITIVE, Resolution.FALSE_POSITIVE],
        tool="AWS GuardDuty",
        team="Tier 2",
    ),
    Scenario(
        "SOC",
        [Source.PHONE],
        "Lost laptop {host} reported by phone",
        "Caller reports laptop {host} left on a train this morning. Disk is BitLocker-encrypted.",
        [Severity.HIGH, Severity.MEDIUM],
        ["lost-device"],
        ["Device wiped remotely via Intune; sessions revoked, user issued a loaner."],
        replies=["We have wiped the laptop and revoked your sessions. Collect a loaner at the IT desk."],
        verdicts=[Resolution.TRUE_POSITIVE],
    ),
    Scenario(
        "IT Help Desk",
        [Source.WEB, Source.PHONE, Source.EMAIL],
        "Password reset for {user}",
        "I cannot sign in any more after my holiday, please reset my password.",
        [Severity.LOW, Severity.INFO],
        ["password-reset", "account"],
        ["Identity verified by call-back to the number on file."],
        replies=["Your password has been reset; you will be asked to choose a new one at sign-in."],
        verdicts=[Resolution.NOT_APPLICABLE],
        team="Service Desk",
        weight=4,
    ),
    Scenario(
        "IT Help Desk",
        [Source.WEB],
        "MFA device replacement for {user}",
        "I got a new phone and the authenticator app is gone. How do I sign in?",
        [Severity.LOW],
        ["mfa", "account"],
        ["Old MFA method removed after video identity check; temporary access pass issued."],
        replies=["Use the temporary access pass we sent by SMS to register the new phone within 8 hours."],
        verdicts=[Resolution.NOT_APPLICABLE],
        team="Service Desk",
        weight=2,
    ),
    Scenario(
        "IT Help Desk",
        [Source.WEB, Source.EMAIL],
        "VPN access request for contractor {name}",
        "Please grant VPN access to our contractor {name} until the end of the quarter.",
        [Severity.INFO, Severity.LOW],
        ["access-request", "vpn"],
        ["Manager approval attached; access granted with an expiry date."],
        replies=["Access is granted until the end of the quarter; credentials went to the contractor."],
        verdicts=[Resolution.NOT_APPLICABLE],
        team="Service Desk",
    ),
    Scenario(
        "IT Help Desk",
        [Source.PHONE],
        "Account {user} locked out after password change",
        "User calls: account locked again ten minutes after changing the password.",
        [Severity.LOW],
        ["account", "lockout"],
        ["Old password cached on the user's phone mail app; removed the profile, unlocked the account."],
        verdicts=[Resolution.NOT_APPLICABLE],
        team="Service Desk",
    ),
    Scenario(
        "Threat Intel",
        [Source.API],
        "IOC sweep: {campaign} indicators",
        "MISP feed published 37 new indicators for {campaign}, including {domain} and {ip}. Sweep the "
        "last 30 days of proxy, DNS and EDR telemetry.",
        [Severity.MEDIUM],
        ["ioc-sweep", "misp"],
        ["No hits in proxy or DNS logs; indicators pushed to the EDR block list."],
        verdicts=[Resolution.NOT_APPLICABLE, Resolution.TRUE_POSITIVE],
        tool="MISP",
    ),
    Scenario(
        "Threat Intel",
        [Source.EMAIL],
        "Advisory: {cve} exploited in the wild",
        "CISA added {cve} to the KEV catalog. Vendor advisory and IOCs attached.",
        [Severity.HIGH],
        ["advisory", "vulnerability"],
        ["Exposure check: 2 internet-facing appliances affected, SOC ticket raised for patching."],
        verdicts=[Resolution.TRUE_POSITIVE, Resolution.NOT_APPLICABLE],
    ),
]


@dataclass
class DemoResult:
    """What seeding did."""

    created: bool
    tickets: int = 0
    agents: int = 0
    alerts: int = 0


def demo_already_seeded() -> bool:
    return AuditEvent.objects.filter(action=DEMO_ACTION).exists()


def seed_demo(
    *,
    tickets: int = 200,
    days: int = 30,
    seed: int = 4242,
    password: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    alerts: bool = True,
) -> DemoResult:
    """Create the demo organisation and `tickets` tickets over the last `days` days, once.

    Demo agents get unusable passwords unless `password` (or SOCDESK_DEMO_PASSWORD) is given, so a
    demo left running on a network cannot be signed into with a known password.
    """
    if demo_already_seeded():
        return DemoResult(created=False)
    password = password or settings.SOCDESK_DEMO_PASSWORD or None
    # One transaction: a failure half-way leaves no half-seeded demo behind (and no marker).
    with transaction.atomic():
        seeder = _Seeder(random.Random(seed), days=days, password=password)
        seeder.people()
        for i in range(tickets):
            seeder.ticket()
            if progress:
                progress(i + 1, tickets)
        seeder.apply_timeline()
        alert_count = seed_demo_alerts(seeder.departments["SOC"]) if alerts else 0
        record(
            actor=SETUP,
            action=DEMO_ACTION,
            after={"tickets": tickets, "agents": len(seeder.agents), "days": days, "alerts": alert_count},
        )
    return DemoResult(created=True, tickets=tickets, agents=len(seeder.agents), alerts=alert_count)


DEMO_ALERTS = Path(__file__).resolve().parent / "demo_alerts"
# (adapter, sample payload, times sent): a repeat shows de-duplication (one ticket, a count of 2).
DEMO_DELIVERIES = [
    ("alertmanager", "alertmanager_v4.json", 2),
    ("wazuh", "wazuh_alert.json", 2),
    ("suricata", "suricata_eve_alert.json", 1),
    ("elastic", "kibana_alert_doc.json", 1),
    ("grafana", "grafana_webhook.json", 1),
    ("azure-monitor", "azure_common_alert.json", 1),
    ("splunk", "splunk_webhook.json", 1),
]


def seed_demo_alerts(department: Department) -> int:
    """Send each tool's sample alert through the real ingest pipeline: alert tickets with observables."""
    from socdesk.alerts.ingest import delivery_receive_and_process
    from socdesk.alerts.integrations import integration_create

    sent = 0
    for adapter, sample, times in DEMO_DELIVERIES:
        integration = integration_create(
            actor=SETUP, adapter=adapter, name=f"Demo {adapter}", department=department
        )
        body = (DEMO_ALERTS / sample).read_bytes()
        for _ in range(times):
            delivery_receive_and_process(
                adapter=adapter, body=body, content_type="application/json", integration=integration
            )
            sent += 1
    return sent


TIMESTAMP_FIELDS = ("acknowledged_at", "first_response_at", "resolved_at", "closed_at")


class _Story:
    """One ticket's life, with the simulated time at which each service call 'happened'."""

    def __init__(self, seeder: _Seeder, ticket: Ticket, at: datetime):
        self.seeder, self.ticket, self.at = seeder, ticket, at
        self.times: dict[str, datetime | None] = {"created_at": at}
        self.seen: dict[str, datetime | None] = dict.fromkeys(TIMESTAMP_FIELDS)
        self.last_entry = 0
        self._stamp()

    def can_wait(self, minutes: float) -> bool:
        return self.at + timedelta(minutes=minutes) < self.seeder.now - timedelta(minutes=5)

    def do(self, minutes: float, service: Callable, **kwargs) -> bool:
        """Run a service `minutes` after the previous step; False (and nothing done) if that is the future."""
        if not self.can_wait(minutes):
            return False
        self.at += timedelta(minutes=minutes)
        service(ticket=self.ticket, **kwargs)
        self._stamp()
        return True

    def _stamp(self) -> None:
        """Note which entries and timestamps the last service call wrote, to re-date them later."""
        for entry_id in ThreadEntry.objects.filter(ticket=self.ticket, id__gt=self.last_entry).values_list(
            "id", flat=True
        ):
            self.seeder.entry_times[entry_id] = self.at
            self.last_entry = max(self.last_entry, entry_id)
        current = Ticket.objects.filter(pk=self.ticket.pk).values(*TIMESTAMP_FIELDS).get()
        for name in TIMESTAMP_FIELDS:
            if current[name] is None:
                self.times[name] = None
            elif current[name] != self.seen[name]:
                self.times[name] = self.at
        self.seen = current
        self.times["last_activity_at"] = self.at
        self.seeder.ticket_times[self.ticket.pk] = self.times


class _Seeder:
    def __init__(self, rng: random.Random, *, days: int, password: str | None):
        self.rng, self.days, self.password = rng, days, password
        self.now = timezone.now()
        self.departments: dict[str, Department] = {}
        self.roles: dict[str, Role] = {}
        self.agents: dict[str, Agent] = {}
        self.teams: dict[str, Team] = {}
        self.contacts: list[Contact] = []
        self.context: dict[str, object] = {}
        self.api_actor: Actor | None = None
        self.entry_times: dict[int, datetime] = {}
        self.ticket_times: dict[int, dict[str, datetime | None]] = {}

    # --- people ---------------------------------------------------------------------------------

    def people(self) -> None:
        """Departments, roles, agents, teams, organisations, contacts, an API key (existing ones reused)."""
        for name, email, description in DEPARTMENTS:
            self.departments[name] = Department.objects.filter(
                name__iexact=name
            ).first() or department_create(actor=SETUP, name=name, email=email, description=description)
        for name, perms in ROLES.items():
            self.roles[name] = Role.objects.filter(name__iexact=name).first() or role_create(
                actor=SETUP, name=name, permissions=perms
            )
        for username, first, last, access in AGENTS:
            agent = Agent.objects.filter(user__username__iexact=username).first()
            if agent is None:
                agent = agent_create(
                    actor=SETUP,
                    username=username,
                    email=f"{username}@northwind.example",
                    password=self.password,
                    first_name=first,
                    last_name=last,
                )
                for dept, role in access.items():
                    access_grant(
                        actor=SETUP, agent=agent, department=self.departments[dept], role=self.roles[role]
                    )
            self.agents[username] = agent
        for name, dept, lead, members in TEAMS:
            self.teams[name] = Team.objects.filter(name__iexact=name).first() or team_create(
                actor=SETUP,
                name=name,
                department=self.departments[dept],
                lead=self.agents[lead],
                members=[self.agents[m] for m in members],
            )
        for name, domain in ORGANISATIONS:
            if not Organisation.objects.filter(name__iexact=name).exists():
                organisation_create(actor=SETUP, name=name, domain=domain)
        for email, name, phone in CONTACTS:
            self.contacts.append(contact_get_or_create(actor=SETUP, email=email, name=name, phone=phone))
        # Integrations authenticate with API keys; the secret is discarded at once (nobody can use it).
        key, _secret = apikey_create(actor=SETUP, name="SOAR playbooks (demo)", scopes=["tickets:create"])
        self.api_actor = Actor.for_api_key(key, ip="10.20.0.15")

    def workers_of(self, department: str) -> list[Agent]:
        """Agents who may work tickets in the department (not mere observers)."""
        return [
            self.agents[username]
            for username, _f, _l, access in AGENTS
            if access.get(department) in ("Analyst", "Lead")
        ]

    # --- tickets --------------------------------------------------------------------------------

    def new_context(self) -> None:
        """Pick the host, user, IP... of one ticket, so its subject, body and notes tell one story."""
        rng = self.rng
        country, country2 = rng.sample(COUNTRIES, 2)
        self.context = {
            "host": rng.choice(HOSTS),
            "user": rng.choice(USERS),
            "ip": rng.choice(BAD_IPS),
            "domain": rng.choice(BAD_DOMAINS),
            "country": country,
            "country2": country2,
            "m": rng.randint(7, 95),
            "n": rng.randint(12, 480),
            "cve": rng.choice(CVES),
            "lure": rng.choice(LURES),
            "file": rng.choice(FILES),
            "campaign": rng.choice(CAMPAIGNS),
            "name": rng.choice(["Jonas Berg", "Aisha Khan", "Marco Bianchi", "Eva Novak"]),
        }

    def fill(self, text: str) -> str:
        return text.format(**self.context)

    def ticket(self) -> None:
        rng = self.rng
        sc = rng.choices(SCENARIOS, weights=[s.weight for s in SCENARIOS])[0]
        self.new_context()
        dept = self.departments[sc.department]
        source = rng.choice(sc.sources)
        workers = self.workers_of(sc.department)
        worker = rng.choice(workers)
        # Skewed towards recent days, as a real queue is.
        age = timedelta(minutes=(rng.random() ** 1.4) * self.days * 24 * 60)
        created = self.now - age
        subject, body = self.fill(sc.subject), self.fill(sc.body)
        contact = rng.choice(self.contacts) if source in (Source.EMAIL, Source.WEB, Source.PHONE) else None
        if source == Source.ALERT:
            actor = Actor.system(f"alert:{sc.tool or 'siem'}")
        elif source == Source.API:
            actor = self.api_actor
        elif source == Source.PHONE:
            actor = Actor.for_agent(worker)  # the agent who took the call types the ticket in
        else:
            actor = Actor(kind="user", label=str(contact), ident=str(contact.pk), obj=contact)
        ticket = tickets.ticket_create(
            actor=actor,
            subject=subject,
            department=dept,
            body=body,
            requester_email=contact.email if contact else "",
            severity=rng.choice(sc.severities),
            source=source,
            team=self.teams.get(sc.team) if sc.team and rng.random() < 0.6 else None,
            tags=sc.tags + ([sc.tool.lower().replace(" ", "-")] if sc.tool else []),
            extra={"demo": True, "tool": sc.tool} if sc.tool else {"demo": True},
        )
        story = _Story(self, ticket, created)
        self.work(story, sc, worker, contact)

    def work(self, story: _Story, sc: Scenario, worker: Agent, contact: Contact | None) -> None:
        """Play the ticket forward as far as its age allows: triage, investigate, answer, resolve, close."""
        rng = self.rng
        me = Actor.for_agent(worker)
        if rng.random() < 0.08:  # some tickets are still waiting in the queue however old
            return
        if not story.do(rng.uniform(2, 90), tickets.ticket_claim, actor=me):
            return
        notes = list(sc.notes)
        rng.shuffle(notes)
        if notes and not story.do(
            rng.uniform(10, 180), tickets.ticket_note, actor=me, body=self.fill(notes[0])
        ):
            return
        if sc.escalate_to and rng.random() < 0.3:
            lead = self.teams[sc.escalate_to].lead or worker
            if story.ticket.severity != Severity.CRITICAL:
                story.do(
                    rng.uniform(5, 60), tickets.ticket_change_severity, actor=me, severity=Severity.CRITICAL
                )
            if story.do(
                rng.uniform(5, 30),
                tickets.ticket_assign,
                actor=me,
                agent=lead,
                team=self.teams[sc.escalate_to],
            ):
                me = Actor.for_agent(lead)
        if contact is not None and sc.replies:
            reply = self.fill(rng.choice(sc.replies))
            if not story.do(rng.uniform(15, 240), tickets.ticket_reply, actor=me, body=reply):
                return
            if rng.random() < 0.35:
                requester = Actor(kind="user", label=str(contact), ident=str(contact.pk), obj=contact)
                story.do(
                    rng.uniform(30, 600),
                    tickets.ticket_add_message,
                    actor=requester,
                    body=rng.choice(FOLLOW_UPS + (PHISHING_FOLLOW_UPS if "phishing" in sc.tags else [])),
                )
        if rng.random() < 0.15:
            if not story.do(
                rng.uniform(20, 120),
                tickets.ticket_change_status,
                actor=me,
                status=Status.ON_HOLD,
                comment="Waiting for the requester / a change window.",
            ):
                return
            if not story.do(
                rng.uniform(120, 2880), tickets.ticket_change_status, actor=me, status=Status.IN_PROGRESS
            ):
                return
        for extra in notes[1:]:
            if rng.random() < 0.6 and not story.do(
                rng.uniform(20, 300), tickets.ticket_note, actor=me, body=self.fill(extra)
            ):
                return
        verdict = rng.choice(sc.verdicts)
        if not story.do(
            rng.uniform(30, 1440),
            tickets.ticket_change_status,
            actor=me,
            status=Status.RESOLVED,
            resolution=verdict,
            comment=_resolution_comment(verdict),
        ):
            return
        if rng.random() < 0.6:
            story.do(rng.uniform(1440, 4320), tickets.ticket_change_status, actor=me, status=Status.CLOSED)

    def apply_timeline(self) -> None:
        """Re-date the demo to look like a month of work.

        The services stamp everything with the real clock, so a fresh seed would show 200 tickets
        created within the same minute. This one step moves ticket and thread timestamps to the
        simulated times recorded per service call. It deliberately bypasses the services (it is not a
        change anyone made) and leaves the audit trail alone: audit events keep the true time at
        which the demo was seeded, and their hashes stay valid.
        """
        entries = list(ThreadEntry.objects.filter(pk__in=self.entry_times.keys()).only("id", "created_at"))
        for entry in entries:
            entry.created_at = self.entry_times[entry.pk]
        ThreadEntry.objects.bulk_update(entries, ["created_at"], batch_size=500)
        rows = list(Ticket.objects.filter(pk__in=self.ticket_times.keys()))
        fields = ["created_at", "last_activity_at", *TIMESTAMP_FIELDS]
        for ticket in rows:
            for name, value in self.ticket_times[ticket.pk].items():
                setattr(ticket, name, value)
        Ticket.objects.bulk_update(rows, fields, batch_size=500)


def _resolution_comment(verdict: str) -> str:
    return {
        Resolution.TRUE_POSITIVE: "Confirmed malicious activity; contained and documented.",
        Resolution.BENIGN_POSITIVE: "Real activity, but expected and authorised.",
        Resolution.FALSE_POSITIVE: "Detection logic misfired; tuning request filed.",
        Resolution.DUPLICATE: "Duplicate of an earlier ticket.",
        Resolution.NOT_APPLICABLE: "Request fulfilled.",
    }[verdict]
