"""The job dashboard (django-rq's pages): only staff with `django_rq.admin` or superusers, on
every one of its URLs, both where config/urls.py mounts them and where the admin registers them."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django_rq.settings import get_queues_map
from django_rq.urls import get_admin_urlpatterns, get_api_urlpatterns
from rq.job import Job

from config.queues import SYNC_PRODUCTS, get_queue
from tests.crm.factories import SalesUserFactory, StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db

ADMIN_ENTRY = "/admin/django_rq/dashboard/"


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _operator():
    user = StaffUserFactory()
    user.user_permissions.add(Permission.objects.get(content_type__app_label="django_rq", codename="admin"))
    return user


def _every_dashboard_url(job_id: str) -> list[str]:
    """Each django-rq URL under both prefixes, with plausible arguments."""
    values = {
        "queue_index": get_queues_map()[SYNC_PRODUCTS],
        "job_id": job_id,
        "result_id": "1-0",
        "key": "rq:worker:w1",
        "scheduler_index": 0,
        "connection_index": 0,
        "scheduler_name": "cron",
        "cron_job_name": "sweep",
        "token": "t0ken",
    }
    urls = []
    for pattern in get_api_urlpatterns() + get_admin_urlpatterns():
        arguments = getattr(pattern.pattern, "converters", None) or pattern.pattern.regex.groupindex
        kwargs = {name: values[name] for name in arguments}
        urls.append(reverse(f"django_rq:{pattern.name}", kwargs=kwargs))
        urls.append(reverse(f"admin:django_rq_{pattern.name}", kwargs=kwargs))
    return [*sorted(set(urls)), ADMIN_ENTRY]


def test_staff_without_the_permission_get_403_on_every_job_url():
    job = get_queue(SYNC_PRODUCTS).enqueue("catalog.jobs.products_sync_job")
    sales = _logged_in(SalesUserFactory())
    urls = _every_dashboard_url(job.id)
    assert len(urls) == 55  # 27 django-rq patterns under two prefixes, and the admin entry

    refused = {url: (sales.get(url).status_code, sales.post(url).status_code) for url in urls}

    assert refused == dict.fromkeys(urls, (403, 403))
    assert Job.exists(job.id, connection=get_queue(SYNC_PRODUCTS).connection)
    assert get_queue(SYNC_PRODUCTS).job_ids == [job.id]


def test_anonymous_and_non_staff_users_are_sent_to_the_admin_login():
    urls = ["/admin/django-rq/", "/admin/django-rq/stats.json/", "/admin/django-rq/metrics/", ADMIN_ENTRY]
    for client in (Client(), _logged_in(UserFactory())):
        answers = [client.get(url) for url in urls]
        assert [answer.status_code for answer in answers] == [302, 302, 302, 302]
        assert all(answer["Location"].startswith("/admin/login/") for answer in answers)


def test_operators_and_superusers_open_the_dashboard_and_act_on_jobs():
    queue = get_queue(SYNC_PRODUCTS)
    job = queue.enqueue("catalog.jobs.products_sync_job")
    index = get_queues_map()[SYNC_PRODUCTS]
    operator = _logged_in(_operator())
    superuser = _logged_in(UserFactory(is_staff=True, is_superuser=True))

    for client in (operator, superuser):
        assert client.get("/admin/django-rq/").status_code == 200
        assert client.get(ADMIN_ENTRY).status_code == 200
        assert client.get(f"/admin/django-rq/queues/{index}/{job.id}/").status_code == 200
        assert client.get("/admin/django-rq/stats.json/").status_code == 200

    deleted = operator.post(f"/admin/django-rq/queues/{index}/{job.id}/delete/")

    assert (deleted.status_code, deleted["Location"]) == (302, f"/admin/django-rq/queues/{index}/")
    assert queue.job_ids == []


def test_the_admin_index_links_the_dashboard_only_for_those_who_may_open_it():
    sales_index = _logged_in(SalesUserFactory()).get("/admin/").content.decode()
    operator_index = _logged_in(_operator()).get("/admin/").content.decode()

    assert ADMIN_ENTRY not in sales_index
    assert f'<a href="{ADMIN_ENTRY}"' in operator_index
