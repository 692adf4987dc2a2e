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
