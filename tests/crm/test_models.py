"""Model labels the admin shows (history lists, delete confirmations, messages)."""

import datetime

from crm.models import Contact


def test_contact_label_names_channel_direction_and_time():
    contact = Contact(
        channel=Contact.Channel.PHONE,
        direction=Contact.Direction.INBOUND,
        happened_at=datetime.datetime(2026, 3, 4, 9, 30, tzinfo=datetime.UTC),
    )

    assert str(contact) == "Phone (Inbound) 2026-03-04 09:30"


def test_contact_label_without_a_time_yet_leaves_the_time_out():
    contact = Contact(channel=Contact.Channel.NOTE, direction=Contact.Direction.INTERNAL)

    assert str(contact) == "Note (Internal)"
