"""factory_boy factories for the CRM."""

from importlib import import_module

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from crm.models import Contact, Customer, Lead


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-test-1")
    is_staff = False


class StaffUserFactory(UserFactory):
    is_staff = True


class SalesUserFactory(StaffUserFactory):
    class Meta:
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"sales{n}")

    @factory.post_generation
    def sales_group(self, create, extracted, **kwargs):
        if create:
            self.groups.add(sales_group())


def sales_group() -> Group:
    """The Sales group the migrations create; transactional tests flush tables (and with them the
    migrations' rows), so recreate it the same way when it is gone."""
    group, created = Group.objects.get_or_create(name="Sales")
    if created:
        granted = [("crm", codename) for codename in import_module("crm.migrations.0002_sales_group").PERMISSIONS] + [
            ("orders", "view_order")
        ]
        for app_label, codename in granted:
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return group


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    name = factory.Sequence(lambda n: f"Customer {n}")


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    name = factory.Sequence(lambda n: f"Lead {n}")
    email = factory.Sequence(lambda n: f"lead{n}@example.com")
    source = Lead.Source.WEB_FORM
    status = Lead.Status.NEW


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    lead = factory.SubFactory(LeadFactory)
    channel = Contact.Channel.EMAIL
    direction = Contact.Direction.OUTBOUND
    summary = "Sent the price list."
    happened_at = factory.LazyFunction(timezone.now)
