from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("urbandata", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="urbandatasettings",
            name="personal_types",
            field=models.JSONField(blank=True, default=list, verbose_name="personal data types"),
        ),
    ]
