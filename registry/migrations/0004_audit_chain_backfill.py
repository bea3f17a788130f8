"""Link the events written before the hash chain existed into it (oldest first)."""

from django.db import migrations


def backfill(apps, schema_editor):
    from registry.audit import event_digest

    DomainEvent = apps.get_model("registry", "DomainEvent")
    prev = ""
    for event in DomainEvent.objects.using(schema_editor.connection.alias).order_by("id").iterator():
        digest = event_digest(
            occurred_at=event.occurred_at, actor_id=event.actor_id, event_type=event.event_type,
            object_type=event.object_type, object_id=event.object_id, params=event.params, prev_hash=prev,
        )
        if event.prev_hash != prev or event.hash != digest:
            DomainEvent.objects.using(schema_editor.connection.alias).filter(pk=event.pk).update(
                prev_hash=prev, hash=digest
            )
        prev = digest


class Migration(migrations.Migration):

    dependencies = [
        ("registry", "0003_auditchainanchor_alter_enterprise_options_and_more"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
