"""Drop the stored image URLs that are not http(s), as `catalog.content` now does on write."""

from django.db import migrations
from django.db.models import Q

BATCH = 500


def image_urls_clean(apps, schema_editor):
    from catalog.content import image_url_clean, image_urls_clean

    product_model = apps.get_model("catalog", "Product")
    variant_model = apps.get_model("catalog", "Variant")
    last_id = 0
    while True:
        batch = list(product_model.objects.filter(pk__gt=last_id).order_by("pk").only("images")[:BATCH])
        if not batch:
            break
        last_id = batch[-1].pk
        changed = []
        for product in batch:
            cleaned = image_urls_clean(product.images if isinstance(product.images, list) else [])
            if cleaned != product.images:
                product.images = cleaned
                changed.append(product)
        product_model.objects.bulk_update(changed, ["images"])
    # Only variants whose image does not start as an http(s) URL can change.
    suspects = variant_model.objects.exclude(image="").exclude(
        Q(image__istartswith="http://") | Q(image__istartswith="https://")
    )
    for variant in suspects.only("image").iterator(chunk_size=BATCH):
        variant.image = image_url_clean(variant.image)
        variant.save(update_fields=["image"])


class Migration(migrations.Migration):
    dependencies = [("catalog", "0005_variant_pending_cost")]

    operations = [migrations.RunPython(image_urls_clean, migrations.RunPython.noop, elidable=True)]
