"""The reasoned reply on the real v1 07/12, as a mail client and a SARIF consumer would read it."""

from __future__ import annotations

import email
import email.policy
import json
import subprocess
import sys
from pathlib import Path

import jsonschema

from tests.corpus import thread

SCHEMA = Path(__file__).resolve().parent.parent / "bot" / "report" / "schema" / "sarif-schema-2.1.0.json"
V1_07 = "6dd63b39-e71f-2e8b-7e0-83e02f3bcb39@google.com"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, timeout=300)


def test_email_reply_to_v1_07() -> None:
    out = run("check", "--mbox", str(thread(1)), "--msgid", V1_07, "--format", "email")
    assert out.returncode == 1, out.stderr
    raw = out.stdout.split("\n", 1)[1] if out.stdout.startswith("From ") else out.stdout
    msg = email.message_from_string(raw, policy=email.policy.default)
    assert msg["In-Reply-To"] == f"<{V1_07}>"
    assert msg["References"].split()[-1] == f"<{V1_07}>"
    assert str(msg["Subject"]) == "Re: [PATCH 07/12] s390: add pte_free_defer(), with use of mmdrop_async()"
    assert "hughd@google.com" in str(msg["To"])
    assert "linux-s390@vger.kernel.org" in str(msg["Cc"]) and "linux-mm@kvack.org" in str(msg["Cc"])
    body = msg.get_content()
    assert "> +\tcall_rcu(&page->rcu_head, pte_free_now);" in body
    for hazard in ("RCU_HEAD_SHARED", "RCU_HEAD_OVERLAYS_LRU"):
        assert f"{hazard}:" in body
    assert "automated review" in body and "Reviewed-by" not in body and "Signed-off-by: review" not in body
    shared = body[body.index("RCU_HEAD_SHARED:"):]
    header = next(ln for ln in shared.splitlines() if "CPU0" in ln)
    assert "CPU1" in header  # a two-context interleaving
    # quoted patch lines and bare links cannot be wrapped; everything else is prose
    prose = [ln for ln in body.splitlines() if not ln.startswith(">") and not ln.strip().startswith("http")]
    assert max(len(ln) for ln in prose) <= 72


def test_sarif_of_the_v1_thread_validates() -> None:
    out = run("check", "--mbox", str(thread(1)), "--format", "sarif")
    assert out.returncode == 1, out.stderr
    doc = json.loads(out.stdout)
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(doc)
    rules = {r["ruleId"] for run_ in doc["runs"] for r in run_["results"]}
    assert {"RCU_HEAD_SHARED", "RCU_HEAD_OVERLAYS_LRU"} <= rules
    loc = next(r for run_ in doc["runs"] for r in run_["results"] if r["ruleId"] == "RCU_HEAD_SHARED")
    phys = loc["locations"][0]["physicalLocation"]
    assert phys["artifactLocation"]["uri"].endswith(("arch/s390/mm/pgalloc.c", "arch/powerpc/mm/pgtable-frag.c"))
    assert phys["region"]["startLine"] in (138, 379)  # powerpc 05/12 or s390 07/12
