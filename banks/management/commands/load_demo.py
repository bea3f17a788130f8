from django.core.management.base import BaseCommand

from banks import demo
from banks.demo.foundation import demo_password, load_users
from banks.demo.subsidies import extra_accounts


class Command(BaseCommand):
    help = "载入演示数据（服保贷项目、合作机构、演示账号）；可重复执行"

    def handle(self, *args, **options) -> None:
        demo.run(self.stdout)
        accounts = load_users(self.stdout)
        accounts += extra_accounts()  # extra_accounts hook: logins made by later steps (enterprises)
        self.stdout.write("\n演示账号（密码均为下方所示）：")
        for username, label in accounts:
            self.stdout.write(f"  {username:<22} {label}")
        self.stdout.write(f"\n演示密码：{demo_password()}\n")
