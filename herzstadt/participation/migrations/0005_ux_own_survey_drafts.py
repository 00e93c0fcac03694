"""Surveys get draft and published states. Surveys that exist already were public, so they stay
published; new surveys start as drafts."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("participation", "0004_ux_look_leichte_sprache")]

    operations = [
        migrations.AddField(
            model_name="survey",
            name="is_published",
            field=models.BooleanField(default=True, verbose_name="published"),
        ),
        migrations.AlterField(
            model_name="survey",
            name="is_published",
            field=models.BooleanField(default=False, verbose_name="published"),
        ),
    ]
