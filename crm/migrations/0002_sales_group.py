"""The "Sales" group: works leads, customers and contact history; no catalog, settings or users."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Sales"
PERMISSIONS = [
    "add_lead",
    "change_lead",
    "view_lead",
    "delete_lead",
    "add_customer",
    "change_customer",
    "view_customer",
    "add_contact",
    "view_contact",
    "view_leadstatuschange",
]


def create_sales_group(apps, schema_editor):
    # Permissions are normally created after all migrations ran; create crm's now.
    crm_config = apps.get_app_config("crm")
    crm_config.models_module = True
    create_permissions(crm_config, apps=apps, verbosity=0)
    crm_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP_NAME)
    permissions = Permission.objects.filter(content_type__app_label="crm", codename__in=PERMISSIONS)
    assert permissions.count() == len(PERMISSIONS), "missing crm permissions"
    group.permissions.set(permissions)


def delete_sales_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_sales_group, delete_sales_group)]
