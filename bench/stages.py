"""One review-bot process with its stages timed: `python bench/stages.py ARGS` runs `review-bot ARGS`
and prints the CPU seconds of each stage as one JSON line on stderr (the report goes where the
command sends it). bench_throughput.py runs it beside each timed `check --stdin`.

Imports nothing of its own before review-bot's: the interpreter's start is what the command pays too.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from typing import Any

# Where one process's CPU goes: (module, function, stage) — each stage's seconds are those of its
# calls, inclusive. The judge's modules are imported late (bot.pipeline._judge, then the compiled
# cache's load_all): their stages are wrapped when load_all is entered, never by importing earlier.
STAGES = (("bot.cli", "build_parser", "argparse"), ("bot.mail", "load_bytes", "mail parse"),
          ("bot.mail", "load", "mail parse"),
          ("bot.cache", "for_options", "verdict cache open"), ("bot.cache", "review_keys", "review keys"),
          ("bot.pipeline", "_judge", "judging"), ("bot.compiled", "load_all", "rules/ and models/"),
          ("bot.report", "render", "report"))
LATE_STAGES = (("bot.judge", "build_program", "program builds"),
               ("bot.cmodel.models", "run_scenario", "scenarios explored"))


def stages_main(argv: list[str]) -> int:
    """Run `review-bot ARGV` in this process with its stages timed; their CPU seconds as one JSON
    line on stderr (the report itself goes where the command sends it)."""
    started = time.process_time()  # the interpreter and its site: before any of ours
    seconds: dict[str, float] = {"interpreter start": started}

    def timed(mod: Any, name: str, stage: str) -> None:
        fn = getattr(mod, name)

        def wrapper(*a: Any, **k: Any) -> Any:
            t = time.process_time()
            try:
                return fn(*a, **k)
            finally:
                seconds[stage] = seconds.get(stage, 0.0) + time.process_time() - t
        setattr(mod, name, wrapper)

    t = time.process_time()  # the modules a check imports before judging, which the stages live in
    cli = importlib.import_module("bot.cli")
    modules = {mod: importlib.import_module(mod) for mod, _, _ in STAGES}
    seconds["imports"] = time.process_time() - t
    for mod, name, stage in STAGES:
        timed(modules[mod], name, stage)
    pipeline, compiled = sys.modules["bot.pipeline"], sys.modules["bot.compiled"]
    judge, load_all = pipeline._judge, compiled.load_all
    entered = [0.0]

    def judge_entered(*a: Any, **k: Any) -> Any:
        entered[0] = time.process_time()
        return judge(*a, **k)

    def load_all_entered() -> None:  # the judge's modules are imported by now
        seconds["judge imports"] = time.process_time() - entered[0]
        for mod, name, stage in LATE_STAGES:
            timed(sys.modules[mod], name, stage)
        load_all()

    pipeline._judge, compiled.load_all = judge_entered, load_all_entered
    sys.argv = ["review-bot", *argv]
    try:
        return int(cli.main())  # as the command runs: main() of its own process
    finally:
        seconds["total in process"] = time.process_time()
        print(json.dumps({k: round(v, 4) for k, v in seconds.items()}), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(stages_main(sys.argv[1:]))
