"""The sync runs in the admin: the "Sync now" buttons on the changelist and the "resume" action."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from catalog.models import SyncRun
from config.queues import SYNC_PRODUCTS, UPDATE_STOCK, get_queue

CHANGELIST = "/admin/catalog/syncrun/"
SYNC_NOW = "/admin/catalog/syncrun/sync-now/"

pytestmark = pytest.mark.django_db


def _staff(*, can_sync: bool) -> Client:
    user = get_user_model().objects.create_user(username="ops", password="pw-ops-1", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_syncrun"))
    if can_sync:
        user.user_permissions.add(Permission.objects.get(codename="start_sync"))
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def _csrf_token(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def test_sync_now_button_on_an_empty_changelist_queues_a_sync():
    # given
    client = _staff(can_sync=True)
    page = client.get(CHANGELIST).content.decode()
    assert f'<form method="post" action="{SYNC_NOW}"' in page
    assert '<button type="submit" class="button">Sync now</button>' in page
    assert '<button type="submit" class="button">Full sync now</button>' in page

    # when
    response = client.post(SYNC_NOW, {"kind": "full", "csrfmiddlewaretoken": _csrf_token(page)}, follow=True)

    # then
    queue = get_queue(SYNC_PRODUCTS)
    assert len(queue.job_ids) == 1
    job = queue.fetch_job(queue.job_ids[0])
    assert (job.func_name, job.args) == ("catalog.jobs.products_sync_job", ("full", "admin", None))
    assert response.redirect_chain == [(CHANGELIST, 302)]
    assert [str(message) for message in response.context["messages"]] == [
        f"Sync queued on sync-products (job {job.id})."
    ]
    assert SyncRun.objects.count() == 0


def test_sync_now_defaults_to_an_incremental_sync():
    client = _staff(can_sync=True)
    token = _csrf_token(client.get(CHANGELIST).content.decode())

    response = client.post(SYNC_NOW, {"csrfmiddlewaretoken": token})

    assert response.status_code == 302
    queue = get_queue(SYNC_PRODUCTS)
    assert [queue.fetch_job(job_id).args for job_id in queue.job_ids] == [("incremental", "admin", None)]


def test_sync_now_refuses_staff_without_the_permission():
    client = _staff(can_sync=False)
    page = client.get(CHANGELIST).content.decode()

    response = client.post(SYNC_NOW, {"kind": "full", "csrfmiddlewaretoken": _csrf_token(page)})

    assert SYNC_NOW not in page
    assert response.status_code == 403
    assert get_queue(SYNC_PRODUCTS).job_ids == []


def test_sync_now_needs_a_post_with_the_csrf_token():
    client = _staff(can_sync=True)

    assert client.get(SYNC_NOW).status_code == 405
    assert client.post(SYNC_NOW, {"kind": "full"}).status_code == 403
    assert get_queue(SYNC_PRODUCTS).job_ids == []


def test_sync_now_rejects_an_unknown_kind():
    client = _staff(can_sync=True)
    token = _csrf_token(client.get(CHANGELIST).content.decode())

    response = client.post(SYNC_NOW, {"kind": "everything", "csrfmiddlewaretoken": token}, follow=True)

    assert [str(message) for message in response.context["messages"]] == ["Unknown sync kind 'everything'."]
    assert get_queue(SYNC_PRODUCTS).job_ids == []


def test_resume_action_queues_the_selected_failed_run():
    # given
    failed = SyncRun.objects.create(kind="full", status="failed", started_at=timezone.now(), checkpoint={"page": 3})
    client = _staff(can_sync=True)
    token = _csrf_token(client.get(CHANGELIST).content.decode())

    # when
    response = client.post(
        CHANGELIST, {"action": "resume", "_selected_action": [failed.pk], "csrfmiddlewaretoken": token}, follow=True
    )

    # then
    queue = get_queue(SYNC_PRODUCTS)
    assert [queue.fetch_job(job_id).args for job_id in queue.job_ids] == [("full", "admin", failed.pk)]
    assert [str(message) for message in response.context["messages"]] == [
        f"Sync queued on sync-products (job {queue.job_ids[0]})."
    ]


def test_resume_action_is_not_offered_without_the_permission():
    SyncRun.objects.create(kind="full", status="failed", started_at=timezone.now(), checkpoint={"page": 3})

    page = _staff(can_sync=False).get(CHANGELIST).content.decode()

    assert 'value="resume"' not in page


def test_resume_action_queues_an_interrupted_stock_run_on_update_stock():
    # given: a stock refresh stopped by Ctrl-C (closed as failed "Interrupted") after 2 pages
    stopped = SyncRun.objects.create(
        kind="stock", status="failed", started_at=timezone.now(), pages_done=2, checkpoint={"product_id": 40}
    )
    client = _staff(can_sync=True)
    token = _csrf_token(client.get(CHANGELIST).content.decode())

    # when
    response = client.post(
        CHANGELIST, {"action": "resume", "_selected_action": [stopped.pk], "csrfmiddlewaretoken": token}, follow=True
    )

    # then: the stock run's own resume job is queued, nothing on sync-products
    queue = get_queue(UPDATE_STOCK)
    assert [(queue.fetch_job(job_id).func_name, queue.fetch_job(job_id).args) for job_id in queue.job_ids] == [
        ("catalog.jobs.stock_run_resume_job", (stopped.pk,))
    ]
    assert get_queue(SYNC_PRODUCTS).count == 0
    assert [(message.level_tag, str(message)) for message in response.context["messages"]] == [
        (
            "success",
            f"Stock refresh #{stopped.pk} queued to resume after page 2 on update-stock (job {queue.job_ids[0]}).",
        )
    ]


def test_resume_action_says_why_a_finished_run_cannot_be_resumed():
    done = SyncRun.objects.create(kind="stock", status="succeeded", started_at=timezone.now())
    client = _staff(can_sync=True)
    token = _csrf_token(client.get(CHANGELIST).content.decode())

    response = client.post(
        CHANGELIST, {"action": "resume", "_selected_action": [done.pk], "csrfmiddlewaretoken": token}, follow=True
    )

    assert [(message.level_tag, str(message)) for message in response.context["messages"]] == [
        (
            "warning",
            f"Stock refresh #{done.pk} (succeeded) cannot be resumed: only an unfinished (running or failed) "
            "products or stock run can.",
        )
    ]
    assert get_queue(UPDATE_STOCK).count == 0
