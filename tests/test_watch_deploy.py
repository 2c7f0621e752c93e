"""deploy/: the systemd units pass systemd-analyze verify and run a command the CLI accepts; the
Containerfile's build steps work in a plain virtualenv (docker itself cannot run here)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from bot.cli import build_parser
from tests.conftest import REPO

DEPLOY = REPO / "deploy"
HARDENING = ("ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "NoNewPrivileges=yes",
             "DynamicUser=yes", "CapabilityBoundingSet=", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
             "SystemCallFilter=@system-service", "ProtectKernelTunables=yes", "StateDirectory=review-bot")


def _exec_start(unit: str) -> list[str]:
    line = next(ln for ln in unit.splitlines() if ln.startswith("ExecStart="))
    return shlex.split(line.removeprefix("ExecStart="))


def test_service_runs_watch_once_with_hardening() -> None:
    unit = (DEPLOY / "systemd" / "review-bot-watch.service").read_text()
    argv = _exec_start(unit)
    assert argv[0] == "/opt/review-bot/bin/review-bot" and argv[1:3] == ["watch", "--config"]
    args = build_parser().parse_args(argv[1:])
    assert args.func.__name__ == "cmd_watch" and args.once and args.config == "/etc/review-bot/config.toml"
    for key in HARDENING:
        assert key in unit.splitlines(), key
    assert "KillSignal=SIGTERM" in unit  # the watcher finishes the current step on SIGTERM ...
    assert "KillMode=mixed" in unit  # ... which its judgement workers must not get first
    timer = (DEPLOY / "systemd" / "review-bot-watch.timer").read_text()
    assert "Unit=review-bot-watch.service" in timer and "Persistent=true" in timer


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    exe = shutil.which("review-bot") or str(Path(sys.executable).parent / "review-bot")
    for name in ("review-bot-watch.service", "review-bot-watch.timer"):
        text = (DEPLOY / "systemd" / name).read_text().replace("/opt/review-bot/bin/review-bot", exe)
        (tmp_path / name).write_text(text)
    res = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "review-bot-watch.service"),
                          str(tmp_path / "review-bot-watch.timer")], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    noise = [ln for ln in res.stderr.splitlines() if "review-bot" in ln]
    assert noise == [], noise


def _containerfile() -> list[tuple[str, str]]:
    out = []
    for line in (DEPLOY / "Containerfile").read_text().replace("\\\n", " ").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_containerfile_builds_in_a_venv(tmp_path: Path) -> None:
    """Copy what the Containerfile COPYs, run its install step (deploy/install.sh, as its RUN line
    does) and run the image's command from the installed package, outside the checkout. The
    runtime dependencies come from this test's environment (PYTHONPATH, --no-deps); the build
    backend comes from the package index, as for the wheel the packaging tests build."""
    steps = _containerfile()
    src = tmp_path / "src"
    for word, rest in steps:
        if word == "COPY":
            *paths, dest = rest.split()
            target = tmp_path / dest.lstrip("/")
            for p in paths:
                origin = REPO / p
                assert origin.exists(), f"COPY {p}: not in the repository"
                if origin.is_dir():
                    shutil.copytree(origin, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
                else:
                    dest_file = target / origin.name if dest.endswith("/") else target
                    dest_file.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(origin, dest_file)
    run = next(rest for word, rest in steps if word == "RUN" and "install.sh" in rest)
    m = re.search(r"sh /src/deploy/install\.sh (\S+) /src", run)
    assert m, run
    entry = next(rest for word, rest in steps if word == "ENTRYPOINT")
    assert entry == f'["{m.group(1)}/bin/review-bot"]'
    prefix = tmp_path / "opt" / "review-bot"
    env = {**os.environ, "PIP_ARGS": "--no-deps", "PYTHONPATH": sysconfig.get_paths()["purelib"]}
    res = subprocess.run(["sh", str(src / "deploy" / "install.sh"), str(prefix), str(src)], env=env,
                         capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.strip().startswith("review-bot ")
    cmd = next(rest for word, rest in steps if word == "CMD")
    assert cmd == '["watch", "--config", "/etc/review-bot/config.toml"]'
    exe = prefix / "bin" / "review-bot"
    cfg = tmp_path / "config.toml"
    cfg.write_text((REPO / "deploy" / "review-bot.toml").read_text().replace("/var/lib/review-bot", str(tmp_path))
                   .replace("/var/cache/review-bot", str(tmp_path / "cache")))
    out = subprocess.run([str(exe), "status", "--config", str(cfg)], env=env, capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "list linux-s390" in out.stdout
    help_ = subprocess.run([str(exe), "watch", "--help"], env=env, capture_output=True, text=True, timeout=120,
                           cwd=tmp_path)
    assert help_.returncode == 0 and "--once" in help_.stdout
    installed = subprocess.run([str(prefix / "bin" / "python"), "-c",
                                "import bot.paths, bot.watch.run; print(bot.paths.rules_dir())"],
                               env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    assert str(prefix) in installed.stdout  # rules/ shipped inside the installed package
