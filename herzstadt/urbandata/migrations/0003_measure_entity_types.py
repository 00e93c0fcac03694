import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_ux_own_city_contact"),
        ("urbandata", "0002_personal_types"),
    ]

    operations = [
        migrations.CreateModel(
            name="MeasureEntityTypes",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "entity_types",
                    models.JSONField(blank=True, default=list, verbose_name="entity types"),
                ),
                (
                    "city",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        to="core.city",
                        verbose_name="city",
                    ),
                ),
                (
                    "measure",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="core.measure",
                        verbose_name="measure",
                    ),
                ),
            ],
            options={
                "verbose_name": "entity types of a measure",
                "verbose_name_plural": "entity types of measures",
            },
        ),
    ]
