#!/usr/bin/env python3
"""Turns Loghub's OpenSSH sample (syslog lines) into ECS-shaped JSON lines for the demo.

Used once to produce examples/sshd-events.jsonl (committed); not needed to build or test.
The sample has no year; Loghub says it is Dec 10, so the events are placed in 2024.

    python3 scripts/loghub-to-jsonl.py examples/loghub/OpenSSH_2k.log > examples/sshd-events.jsonl
"""
import json
import re
import sys

MONTHS = {m: i + 1 for i, m in enumerate(
    "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())}
HEAD = re.compile(r"^(\w{3}) +(\d+) (\d\d:\d\d:\d\d) (\S+) (\w+)\[(\d+)\]: (.*)$")
PATTERNS = [
    (re.compile(r"Failed password for (invalid user )?(\S+) from (\S+) port (\d+)"),
     lambda m: {"event.action": "ssh_login", "event.outcome": "failure",
                "user.name": m[2], "source.ip": m[3], "source.port": int(m[4]),
                "user.invalid": bool(m[1])}),
    (re.compile(r"Accepted (\w+) for (\S+) from (\S+) port (\d+)"),
     lambda m: {"event.action": "ssh_login", "event.outcome": "success",
                "ssh.method": m[1], "user.name": m[2], "source.ip": m[3],
                "source.port": int(m[4])}),
    (re.compile(r"Invalid user (\S*) from (\S+)"),
     lambda m: {"event.action": "ssh_invalid_user", "user.name": m[1], "source.ip": m[2]}),
    (re.compile(r"reverse mapping checking getaddrinfo for (\S+) \[(\S+)\] failed - POSSIBLE BREAK-IN ATTEMPT"),
     lambda m: {"event.action": "ssh_reverse_mapping_failed", "source.domain": m[1],
                "source.ip": m[2]}),
    (re.compile(r"Received disconnect from ([^\s:]+)"),
     lambda m: {"event.action": "ssh_disconnect", "source.ip": m[1]}),
    (re.compile(r"authentication failure;.*rhost=(\S+)(?:\s+user=(\S+))?"),
     lambda m: {"event.action": "pam_auth_failure", "source.ip": m[1],
                **({"user.name": m[2]} if m[2] else {})}),
]


def convert(line):
    m = HEAD.match(line.rstrip("\r\n"))
    if not m:
        return None
    mon, day, hms, host, app, pid, msg = m.groups()
    event = {
        "@timestamp": f"2024-{MONTHS[mon]:02d}-{int(day):02d}T{hms}Z",
        "host": {"name": host},
        "process": {"name": app, "pid": int(pid)},
        "event": {"category": "authentication", "dataset": "sshd"},
        "message": msg.strip(),
    }
    for pattern, fields in PATTERNS:
        pm = pattern.search(msg)
        if pm:
            for path, value in fields(pm).items():
                obj = event
                parts = path.split(".")
                for p in parts[:-1]:
                    obj = obj.setdefault(p, {})
                obj[parts[-1]] = value
            break
    else:
        event["event"]["action"] = "sshd_other"
    return event


def main():
    with open(sys.argv[1], encoding="utf-8", newline="") as f:
        for line in f:
            ev = convert(line)
            if ev is not None:
                print(json.dumps(ev, separators=(",", ":")))


if __name__ == "__main__":
    main()
