"""Fixtures of the CRM tests: a Sales user (staff with the CRM permissions) and its admin client."""

import pytest
from django.test import Client

from tests.crm.factories import SalesUserFactory


@pytest.fixture
def sales_user():
    return SalesUserFactory(username="sam")


@pytest.fixture
def sales(sales_user) -> Client:
    client = Client()
    client.force_login(sales_user)
    return client
