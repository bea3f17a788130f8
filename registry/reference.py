"""Reference data is part of the schema's contents: the data migration loads it, and a
database flush (the test runner's, or ``manage.py flush``) reloads it through post_migrate,
so a freshly flushed database is never left without its 21 市(州) or its LPR table."""

from __future__ import annotations

import importlib
from typing import Any

_MIGRATION = "registry.migrations.0002_reference_data"


def reload_reference_data_after_flush(sender: Any, using: str = "default", **kwargs: Any) -> None:
    if getattr(sender, "name", "") != "registry":
        return
    from django.apps import apps

    region = apps.get_model("registry", "Region")
    if region.objects.using(using).exists():
        return
    importlib.import_module(_MIGRATION).load(apps, None)
