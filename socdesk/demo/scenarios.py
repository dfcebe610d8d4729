"""The kinds of ticket the demo generates, and the words (hosts, users, lures, verdicts) they are made of."""

from __future__ import annotations

from dataclasses import dataclass, field

from socdesk.tickets.choices import Resolution, Severity, Source

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
CAMPAIGNS = ["QakBot resurgence", "Scattered Spider help-desk vishing", "Lumma Stealer via fake CAPTCHA"]

ANY = "*"  # key of the lines that fit every verdict
# Lines an analyst or requester writes: one list for every verdict, or lists keyed by verdict (ANY as
# the fallback), so a note, a reply or a follow-up never contradicts how the ticket ends.
Lines = list[str] | dict[str, list[str]]


def lines_for(lines: Lines, verdict: str) -> list[str]:
    """The lines that fit a ticket resolved with `verdict`."""
    if isinstance(lines, dict):
        return lines.get(verdict) or lines.get(ANY, [])
    return lines


@dataclass
class Scenario:
    """A kind of ticket the demo generates: how it is opened, worked and usually resolved.

    The verdict is decided first; notes, replies and the requester's follow-ups are taken from the
    lines that fit it.
    """

    department: str
    sources: list[str]
    subject: str
    body: str
    severities: list[str]
    tags: list[str]
    notes: Lines
    replies: Lines = field(default_factory=list)
    verdicts: list[str] = field(default_factory=lambda: [Resolution.TRUE_POSITIVE])
    tool: str = ""
    team: str = ""
    escalate_to: str = ""
    weight: int = 1
    follow_ups: Lines = field(default_factory=lambda: list(FOLLOW_UPS))


SCENARIOS = [
    Scenario(
        "SOC",
        [Source.ALERT],
        "EDR: encoded PowerShell spawned by winword.exe on {host}",
        "CrowdStrike Falcon detected `powershell.exe -enc ...` launched by WINWORD.EXE on {host} "
        "(user {user}). Parent document: {file}.",
        [Severity.HIGH, Severity.CRITICAL],
        ["edr", "powershell", "initial-access"],
        {
            Resolution.TRUE_POSITIVE: [
                "Process tree reviewed: macro-enabled document from an external sender, PowerShell reached "
                "out to {domain}. Host isolated via EDR.",
                "Decoded payload is a stager for a commodity loader. No lateral movement seen in the last "
                "24h.",
            ],
            Resolution.BENIGN_POSITIVE: [
                "Process tree reviewed: {file} is the finance team's signed reporting macro; the encoded "
                "command only refreshes a pivot table from the internal data warehouse.",
                "Macro publisher confirmed with finance IT; exclusion request filed for the signed document.",
            ],
        },
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
        {
            Resolution.TRUE_POSITIVE: [
                "Source {ip} is a known Tor exit node; no successful login followed. Blocked at the edge.",
                "Account {user} was not locked; password is in the breached list, forced a reset with IT.",
            ],
            Resolution.BENIGN_POSITIVE: [
                "The failures come from {user}'s own backup job on {host}, still using the old password "
                "after last week's rotation; job owner updated the credential.",
            ],
            Resolution.FALSE_POSITIVE: [
                "Rule counted the retries of one keyboard-interactive session as separate failures; "
                "only 3 real attempts, then a successful MFA login by {user}.",
            ],
        },
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
        {
            Resolution.BENIGN_POSITIVE: [
                "User is travelling: second sign-in from a hotel network in {country2}, on the user's "
                "registered laptop."
            ],
            Resolution.FALSE_POSITIVE: [
                "Second sign-in came from the corporate VPN egress in {country2}, not from the user's "
                "location; geolocation of the VPN range corrected."
            ],
            Resolution.TRUE_POSITIVE: [
                "User was in the office all day; the {country2} sign-in used a stolen session token.",
                "Sessions revoked and MFA re-registration required; mailbox rules checked, none added.",
            ],
        },
        replies=["Hi, did you sign in from {country2} today? Please reply or call the SOC at ext. 4400."],
        verdicts=[Resolution.BENIGN_POSITIVE, Resolution.FALSE_POSITIVE, Resolution.TRUE_POSITIVE],
        follow_ups={
            Resolution.BENIGN_POSITIVE: ["Yes, that was me: I am at a customer site in {country2}."],
            Resolution.FALSE_POSITIVE: ["I was on the company VPN all day, I have not been abroad."],
            Resolution.TRUE_POSITIVE: ["No, that was not me! I have been in the office all day."],
        },
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
        {
            Resolution.TRUE_POSITIVE: [
                "Patch available from the vendor; change request raised with IT for the next window."
            ],
            Resolution.NOT_APPLICABLE: [
                "Affected feature is disabled on all {n} hosts (vendor's mitigation applied); the scanner "
                "matched on the version string only."
            ],
        },
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
        {
            Resolution.TRUE_POSITIVE: [
                "Headers show a lookalike sender domain; URL leads to a credential-harvesting kit. "
                "Purged from 14 mailboxes, sender blocked.",
                "Checked proxy logs: two users visited the URL, neither submitted credentials.",
            ],
            Resolution.FALSE_POSITIVE: [
                "Headers check out: sent by our payroll provider's mailing platform (SPF, DKIM and DMARC "
                "pass); the link goes to their real portal.",
            ],
        },
        replies={
            Resolution.TRUE_POSITIVE: [
                "Thank you for reporting this, it was indeed phishing. We removed it from all mailboxes."
            ],
            Resolution.FALSE_POSITIVE: [
                "Thanks! This one was a legitimate email from our payroll provider; you can use the link."
            ],
        },
        verdicts=[Resolution.TRUE_POSITIVE, Resolution.TRUE_POSITIVE, Resolution.FALSE_POSITIVE],
        follow_ups=["Thanks for checking so quickly!", "Good to know, thank you."],
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
        follow_ups=["Thank you, we deleted it and warned the rest of the team.", "Understood, thank you!"],
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
        {
            Resolution.BENIGN_POSITIVE: [
                "Files were team rota spreadsheets; manager confirmed the business need. User reminded of "
                "policy."
            ],
            Resolution.TRUE_POSITIVE: [
                "Files include customer contract drafts; user is leaving next month. HR and legal informed, "
                "personal cloud uploads blocked for the account."
            ],
        },
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
        {
            Resolution.TRUE_POSITIVE: [
                "Access keys rotated, console access removed from ci-deployer; CloudTrail reviewed for "
                "7 days."
            ],
            Resolution.FALSE_POSITIVE: [
                "{ip} is the new egress of our CI runners after last week's network change; allow-listed "
                "for ci-deployer."
            ],
        },
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
        follow_ups=["Thank you, I picked up the loaner.", "Understood, thank you!"],
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
        {
            Resolution.NOT_APPLICABLE: [
                "No hits in proxy or DNS logs; indicators pushed to the EDR block list."
            ],
            Resolution.TRUE_POSITIVE: [
                "One hit: {host} resolved {domain} three days ago. SOC ticket raised; indicators pushed to "
                "the EDR block list."
            ],
        },
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
        {
            Resolution.TRUE_POSITIVE: [
                "Exposure check: 2 internet-facing appliances affected, SOC ticket raised for patching."
            ],
            Resolution.NOT_APPLICABLE: ["Exposure check: no affected product in the asset inventory."],
        },
        verdicts=[Resolution.TRUE_POSITIVE, Resolution.NOT_APPLICABLE],
    ),
]


def resolution_comment(verdict: str) -> str:
    comments: dict[str, str] = {
        Resolution.TRUE_POSITIVE: "Confirmed malicious activity; contained and documented.",
        Resolution.BENIGN_POSITIVE: "Real activity, but expected and authorised.",
        Resolution.FALSE_POSITIVE: "Detection logic misfired; tuning request filed.",
        Resolution.DUPLICATE: "Duplicate of an earlier ticket.",
        Resolution.NOT_APPLICABLE: "Request fulfilled.",
    }
    return comments[verdict]
