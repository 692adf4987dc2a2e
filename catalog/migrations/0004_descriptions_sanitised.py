"""Sanitise the product descriptions stored before `catalog.content` cleaned them on write."""

from django.db import migrations

BATCH = 500


def descriptions_clean(apps, schema_editor):
    from catalog.content import description_clean

    product_model = apps.get_model("catalog", "Product")
    last_id = 0
    while True:
        batch = list(
            product_model.objects.filter(pk__gt=last_id).exclude(description="").order_by("pk").only("description")[
                :BATCH
            ]
        )
        if not batch:
            return
        last_id = batch[-1].pk
        changed = []
        for product in batch:
            cleaned = description_clean(product.description)
            if cleaned != product.description:
                product.description = cleaned
                changed.append(product)
        product_model.objects.bulk_update(changed, ["description"])


class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_write_path_indexes")]

    operations = [migrations.RunPython(descriptions_clean, migrations.RunPython.noop, elidable=True)]
