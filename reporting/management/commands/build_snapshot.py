from datetime import date

from django.core.management.base import BaseCommand, CommandError

from fund.models import Programme
from registry.errors import BusinessError
from reporting.models import SnapshotStatus
from reporting.services import snapshot_build


class Command(BaseCommand):
    help = "生成统计快照（默认同时发布）：build_snapshot --as-of YYYY-MM-DD [--programme 代码] [--draft]"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--as-of", required=True, help="统计截止日 YYYY-MM-DD")
        parser.add_argument("--programme", default="", help="项目代码；省略时为唯一的项目")
        parser.add_argument("--draft", action="store_true", help="只生成草稿，不发布")
        parser.add_argument("--if-missing", action="store_true", help="该截止日已有发布的快照时不再生成")

    def handle(self, *args, **options) -> None:
        try:
            as_of = date.fromisoformat(options["as_of"])
        except ValueError as exc:
            raise CommandError("--as-of 应为 YYYY-MM-DD 格式的日期") from exc
        programmes = Programme.objects.order_by("pk")
        if options["programme"]:
            programmes = programmes.filter(code=options["programme"])
        if programmes.count() != 1:
            raise CommandError("请用 --programme 指定一个项目代码：" + "、".join(programmes.values_list("code", flat=True)))
        existing = programmes.get().snapshots.filter(as_of=as_of, status=SnapshotStatus.PUBLISHED).first()
        if options["if_missing"] and existing is not None:
            self.stdout.write(f"快照 #{existing.pk} 截至 {as_of:%Y-%m-%d} 已发布，未重复生成")
            return
        try:
            snapshot = snapshot_build(programme=programmes.get(), as_of=as_of, publish=not options["draft"],
                                      source="command")
        except BusinessError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"快照 #{snapshot.pk} 截至 {as_of:%Y-%m-%d}：{snapshot.get_status_display()}，"
                          f"耗时 {snapshot.build_ms} 毫秒")
