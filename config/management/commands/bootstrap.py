"""Prepare a fresh machine: create the database if missing, migrate, then collect the static files
(outside debug, where the admin's pages need their manifest) or, in debug only, create a demo
staff account when there is none."""

import secrets
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from psycopg import sql

DEMO_USERNAME = "admin"


class Command(BaseCommand):
    help = (
        "Create the database if missing, migrate, then collect static files (outside debug) "
        "or create a demo staff account (in debug)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self._ensure_database()
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("database migrated")
        if settings.DEBUG:
            self._ensure_demo_staff()
        else:
            # The manifest storage refuses to name a file it has not collected: without this,
            # every admin page answers 500 in production.
            call_command("collectstatic", interactive=False, verbosity=0)
            self.stdout.write(f"static files collected in {settings.STATIC_ROOT}")

    def _ensure_database(self) -> None:
        db = settings.DATABASES["default"]
        params: dict[str, Any] = {
            "dbname": "postgres",
            "host": db.get("HOST") or None,
            "port": db.get("PORT") or None,
            "user": db.get("USER") or None,
            "password": db.get("PASSWORD") or None,
            "connect_timeout": 5,
        }
        with psycopg.connect(**{k: v for k, v in params.items() if v is not None}, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))
                self.stdout.write(f"created database {db['NAME']}")

    def _ensure_demo_staff(self) -> None:
        credentials_file = Path(settings.BASE_DIR) / "var" / "demo-admin.txt"
        user_model = get_user_model()
        if not user_model.objects.filter(is_staff=True).exists():
            password = secrets.token_urlsafe(12)
            user_model.objects.create_superuser(username=DEMO_USERNAME, email="", password=password)
            credentials_file.parent.mkdir(parents=True, exist_ok=True)
            credentials_file.write_text(f"{DEMO_USERNAME} {password}\n")
            credentials_file.chmod(0o600)
        if credentials_file.exists():
            username, password = credentials_file.read_text().split()
            self.stdout.write(self.style.SUCCESS(f"demo staff login (debug only): {username} / {password}  -> /admin/"))
