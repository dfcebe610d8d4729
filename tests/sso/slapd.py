"""A real OpenLDAP server for the tests: Debian's `slapd` with a throwaway config and database in a temp
dir, on a free loopback port, loaded with users and groups through `ldapadd`; stopped by its pid."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.sso.provider import free_port

SLAPD = "/usr/sbin/slapd"
SUFFIX = "dc=example,dc=test"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "ldap-admin-secret"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"

CONFIG = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {tmp}/slapd.pid
argsfile {tmp}/slapd.args
database mdb
maxsize 10485760
suffix "{suffix}"
rootdn "{admin}"
rootpw {password}
directory {tmp}/db
access to attrs=userPassword by self read by anonymous auth by * none
access to * by * read
"""


def available() -> bool:
    return bool(shutil.which(SLAPD) or Path(SLAPD).exists()) and bool(shutil.which("ldapadd"))


@dataclass
class Slapd:
    """A running slapd: its URI, and ldapadd/ldapmodify as its administrator."""

    uri: str
    process: subprocess.Popen

    def _ldap(self, tool: str, ldif: str) -> None:
        subprocess.run(
            [tool, "-x", "-H", self.uri, "-D", ADMIN_DN, "-w", ADMIN_PASSWORD],
            input=ldif.encode(),
            check=True,
            capture_output=True,
            timeout=30,
        )

    def add(self, ldif: str) -> None:
        self._ldap("ldapadd", ldif)

    def modify(self, ldif: str) -> None:
        self._ldap("ldapmodify", ldif)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_slapd(tmp: Path) -> Slapd:
    (tmp / "db").mkdir()
    conf = tmp / "slapd.conf"
    conf.write_text(CONFIG.format(tmp=tmp, suffix=SUFFIX, admin=ADMIN_DN, password=ADMIN_PASSWORD))
    port = free_port()
    uri = f"ldap://127.0.0.1:{port}"
    log = open(tmp / "slapd.log", "wb")  # noqa: SIM115 (kept open for the process's life)
    # -d keeps it in the foreground (so the pid is ours to stop); level 0 logs nothing but errors.
    process = subprocess.Popen(
        [SLAPD, "-f", str(conf), "-h", f"{uri}/", "-d", "0"], stdout=log, stderr=subprocess.STDOUT
    )
    server = Slapd(uri=uri, process=process)
    deadline = time.monotonic() + 20
    while True:
        probe = subprocess.run(
            ["ldapsearch", "-x", "-H", uri, "-b", "", "-s", "base", "(objectClass=*)"],
            capture_output=True,
            timeout=10,
        )
        if probe.returncode == 0:
            break
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"slapd did not start: {(tmp / 'slapd.log').read_text()[-2000:]}")
        time.sleep(0.1)
    server.add(
        f"""dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: {PEOPLE}
objectClass: organizationalUnit
ou: people

dn: {GROUPS}
objectClass: organizationalUnit
ou: groups
"""
    )
    return server


def person_ldif(uid: str, password: str, mail: str, given: str, sn: str) -> str:
    return f"""dn: uid={uid},{PEOPLE}
objectClass: inetOrgPerson
uid: {uid}
cn: {given} {sn}
givenName: {given}
sn: {sn}
mail: {mail}
userPassword: {password}

"""


def group_ldif(name: str, *members: str) -> str:
    lines = [f"dn: cn={name},{GROUPS}", "objectClass: groupOfNames", f"cn: {name}"]
    lines += [f"member: uid={uid},{PEOPLE}" for uid in members]
    return "\n".join(lines) + "\n\n"
