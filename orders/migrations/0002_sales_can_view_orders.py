"""The "Sales" group may read orders (they show on the customer page), not change them."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant(apps, schema_editor):
    orders_config = apps.get_app_config("orders")
    orders_config.models_module = True
    create_permissions(orders_config, apps=apps, verbosity=0)
    orders_config.models_module = None
    group = apps.get_model("auth", "Group").objects.get(name="Sales")
    permission = apps.get_model("auth", "Permission").objects.get(
        content_type__app_label="orders", codename="view_order"
    )
    group.permissions.add(permission)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="Sales"):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="orders", codename="view_order"))


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial"), ("crm", "0002_sales_group")]

    operations = [migrations.RunPython(grant, revoke)]
