#!/usr/bin/env python3
"""critest's count and failing specs from its ginkgo JUnit report.

usage: summary.py JUNIT.xml RUNTIME_NAME REFERENCE
Prints "RUNTIME: N of M passed (REFERENCE)", then "skipped: K", then one line per failing
spec with the first line of its failure message.
"""
import sys
import xml.etree.ElementTree as ET

junit, name, ref = sys.argv[1:4]
try:
    root = ET.parse(junit).getroot()
except (OSError, ET.ParseError) as e:
    print(f"{name}: no JUnit report ({e}): critest did not run to the end")
    sys.exit(1)

passed, failed, skipped = [], [], []
for case in root.iter("testcase"):
    title = case.get("name", "")
    # Suite-level nodes ([BeforeSuite], [ReportAfterSuite], ...) are not specs.
    if not title.startswith("[It]"):
        bad = case.find("failure") is not None or case.find("error") is not None
        if bad:
            print(f"suite node failed: {title}")
        continue
    title = title[len("[It] "):]
    f = case.find("failure")
    if f is None:
        f = case.find("error")
    if f is not None:
        msg = (f.get("message") or f.text or "").strip().splitlines()
        failed.append((title, msg[0][:200] if msg else ""))
    elif case.find("skipped") is not None or case.get("status") == "skipped":
        skipped.append(title)
    else:
        passed.append(title)

total = len(passed) + len(failed) + len(skipped)
print(f"{name}: {len(passed)} of {total} passed ({ref})")
print(f"failed: {len(failed)}, skipped: {len(skipped)}")
for title, msg in sorted(failed):
    print(f"FAIL {title}\n     {msg}")
