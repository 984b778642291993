"""The ledger check: the command and the task prove that levels equal the
sums of their movements, and name the levels that do not."""

import pytest
from django.core.management import CommandError, ManagementUtility, call_command
from django.db import connection

from inventory.models import StockLevel
from inventory.tasks import check_stock_ledger

pytestmark = pytest.mark.django_db


def test_a_consistent_ledger_passes(network, capsys) -> None:
    call_command("check_stock_ledger")

    assert f"ledger OK: {StockLevel.objects.count()} stock levels" in capsys.readouterr().out
    assert check_stock_ledger() == 0


def corrupt(level: StockLevel, on_hand: int) -> None:
    """Change a counter behind the services' back, as a bug or a manual UPDATE would."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE inventory_stocklevel SET on_hand = %s WHERE id = %s", [on_hand, level.pk])


def test_a_level_changed_without_a_movement_fails_the_check_and_is_named(network, capsys) -> None:
    level = StockLevel.objects.get(location=network.warehouse_a, product=network.product_a)
    corrupt(level, 99)

    with pytest.raises(CommandError, match="1 of 4 stock levels"):
        call_command("check_stock_ledger")

    err = capsys.readouterr().err
    assert f"level {level.pk} ACME-GRANOLA@ACME-WH1: on_hand=99 reserved=0, ledger sums on_hand=100" in err
    assert check_stock_ledger() == 1


def test_the_command_exits_non_zero(network) -> None:
    corrupt(StockLevel.objects.get(location=network.store, product=network.retail_product), 31)

    with pytest.raises(SystemExit) as exit_info:
        _run_cli()

    assert exit_info.value.code == 1


def _run_cli() -> None:
    """The command as the shell runs it: CommandError becomes exit status 1."""
    ManagementUtility(["manage.py", "check_stock_ledger"]).execute()


def test_a_level_with_no_movement_at_all_is_caught(network) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO inventory_stocklevel (product_id, location_id, on_hand, reserved, version, updated_at) "
            "VALUES (%s, %s, 5, 0, 1, now())",
            [network.product_b.pk, network.store.pk],
        )

    assert check_stock_ledger() == 1
