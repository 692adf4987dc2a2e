"""docker-compose.yml cannot run here (no Docker engine): check that it names real things."""

from pathlib import Path

import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]


def test_each_service_command_names_an_existing_management_command_or_image():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    commands = get_commands()

    for name, service in compose["services"].items():
        if "image" in service:
            assert name in {"db", "redis"}, name
            continue
        command = service["command"]
        words = command if isinstance(command, list) else command.replace("&&", " ").split()
        managed = [words[i + 1] for i, word in enumerate(words) if word == "manage.py"]
        assert managed or "gunicorn" in words, (name, command)
        for management_command in managed:
            assert management_command in commands, (name, management_command)
        assert "healthcheck" in service or name == "scheduler", name


def test_compose_has_the_documented_services():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())

    assert {"db", "redis", "web", "worker", "scheduler"} <= set(compose["services"])
    assert compose["services"]["db"]["image"] == "postgres:16"
    assert compose["services"]["redis"]["image"] == "redis:7"


def _procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def _queues_of(command: str) -> list[str]:
    words = command.split()
    start = words.index("rqworker") + 1
    return [word for word in words[start:] if not word.startswith("--")]


def test_compose_procfile_and_makefile_run_the_same_workers_and_orders_never_share_with_catalog_or_stock():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    procfile = _procfile()
    workers = {"worker": ["create-order", "process-webhook"], "stock-worker": ["update-stock"],
               "sync-worker": ["sync-products"]}  # fmt: skip

    assert {name: _queues_of(compose[name]["command"]) for name in workers} == workers
    assert {name: _queues_of(procfile[name]) for name in workers} == workers
    makefile = (ROOT / "Makefile").read_text()
    run_lines = [line for line in makefile.splitlines() if line.startswith("RUN_PROCESSES :=")]
    assert all(" worker stock-worker sync-worker scheduler" in line for line in run_lines), run_lines
    # every Procfile process is supervised (restarted when it dies)
    assert all(command.startswith("python -m config.supervise ") for command in procfile.values()), procfile
