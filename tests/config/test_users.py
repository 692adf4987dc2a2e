"""The typed user of an admin request: the signed-in user itself, never an anonymous one."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from config.users import admin_request_user


def test_the_signed_in_user_is_returned_as_is(staff_user):
    request = RequestFactory().get("/admin/")
    request.user = staff_user

    assert admin_request_user(request) is staff_user


def test_an_anonymous_user_is_refused():
    request = RequestFactory().get("/admin/")
    request.user = AnonymousUser()

    with pytest.raises(PermissionDenied):
        admin_request_user(request)
