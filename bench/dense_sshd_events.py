#!/usr/bin/env python3
"""The sshd sample events (examples/sshd-events.jsonl), repeated, with @timestamp rewritten
to advance by a fixed step: a dense stream, as during a brute-force attack.

    python3 bench/dense_sshd_events.py N [STEP_MS] > events.jsonl

kafka_ingest_bench uses the same timing; `vigil replay --rules ... events.jsonl` replays it.
"""
import datetime
import json
import os
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
step = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "..", "examples", "sshd-events.jsonl")) as f:
    templates = [json.loads(line) for line in f if line.strip()]
base = datetime.datetime(2024, 12, 10, 6, 55, 46, tzinfo=datetime.timezone.utc)
out = sys.stdout
for i in range(n):
    e = dict(templates[i % len(templates)])
    t = base + datetime.timedelta(milliseconds=i * step)
    e["@timestamp"] = t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)
    out.write(json.dumps(e, separators=(",", ":")) + "\n")
