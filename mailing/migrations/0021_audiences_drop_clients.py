"""A mailing's recipients are its lists now (0016 moved them): the per-client
checkboxes, and their table, go."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("mailing", "0020_audiences_data")]

    operations = [migrations.RemoveField(model_name="mailing", name="clients")]
