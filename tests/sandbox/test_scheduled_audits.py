"""Scheduled audits: the API's rules, and the sandbox calendar firing them."""

from __future__ import annotations

import calendar as cal
from datetime import UTC, date, datetime

import pytest

from iot_defender_tui.sandbox import scheduler
from iot_defender_tui.sandbox.runtime import runtime
from iot_defender_tui.sandbox.scheduler import WEEKDAYS, day_date, day_index
from iot_defender_tui.sandbox.state import ScheduledAudit
from tests.support.factories import configure_audit, defender_state, error_of

CHECK = "LOGGING_DISABLED_CHECK"
OTHER = "DEVICE_CERTIFICATE_SHARED_CHECK"
DAY = 10.0  # seconds per sandbox day in these tests


def create(iot, name="weekly", **kwargs):
    kwargs.setdefault("frequency", "WEEKLY")
    if kwargs["frequency"] in ("WEEKLY", "BIWEEKLY"):
        kwargs.setdefault("dayOfWeek", "WED")
    kwargs.setdefault("targetCheckNames", [CHECK])
    return iot.create_scheduled_audit(scheduledAuditName=name, **kwargs)


def test_create_describe_list_update_delete(iot):
    configure_audit(iot, CHECK, OTHER)
    arn = create(iot, tags=[{"Key": "team", "Value": "iot"}])["scheduledAuditArn"]
    assert arn == "arn:aws:iot:us-east-1:123456789012:scheduledaudit/weekly"
    described = iot.describe_scheduled_audit(scheduledAuditName="weekly")
    assert described["frequency"] == "WEEKLY" and described["dayOfWeek"] == "WED"
    assert "dayOfMonth" not in described
    assert described["targetCheckNames"] == [CHECK]
    assert described["scheduledAuditArn"] == arn

    # WEEKLY -> MONTHLY: the weekday no longer applies and is dropped.
    iot.update_scheduled_audit(
        scheduledAuditName="weekly", frequency="MONTHLY", dayOfMonth="LAST", targetCheckNames=[CHECK, OTHER]
    )
    described = iot.describe_scheduled_audit(scheduledAuditName="weekly")
    assert described["frequency"] == "MONTHLY" and described["dayOfMonth"] == "LAST"
    assert "dayOfWeek" not in described
    assert described["targetCheckNames"] == [CHECK, OTHER]
    listed = iot.list_scheduled_audits()["scheduledAudits"]
    assert listed == [
        {
            "scheduledAuditName": "weekly",
            "scheduledAuditArn": arn,
            "frequency": "MONTHLY",
            "dayOfMonth": "LAST",
        }
    ]

    iot.delete_scheduled_audit(scheduledAuditName="weekly")
    assert iot.list_scheduled_audits()["scheduledAudits"] == []
    assert error_of(iot.describe_scheduled_audit, scheduledAuditName="weekly")[0] == (
        "ResourceNotFoundException"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"frequency": "WEEKLY", "dayOfWeek": None}, "dayOfWeek is required"),
        ({"frequency": "BIWEEKLY", "dayOfWeek": None}, "dayOfWeek is required"),
        ({"frequency": "WEEKLY", "dayOfWeek": "MON", "dayOfMonth": "3"}, "dayOfMonth cannot be set"),
        ({"frequency": "MONTHLY"}, "dayOfMonth is required"),
        ({"frequency": "MONTHLY", "dayOfMonth": "1", "dayOfWeek": "MON"}, "dayOfWeek cannot be set"),
        ({"frequency": "MONTHLY", "dayOfMonth": "32"}, '"1" through "31" or "LAST"'),
        ({"frequency": "MONTHLY", "dayOfMonth": "0"}, '"1" through "31" or "LAST"'),
        ({"frequency": "DAILY", "dayOfWeek": "MON"}, "cannot be set when frequency is DAILY"),
        ({"frequency": "DAILY", "dayOfMonth": "1"}, "cannot be set when frequency is DAILY"),
        ({"frequency": "DAILY", "targetCheckNames": ["NO_SUCH_CHECK"]}, "Unknown audit check: NO_SUCH_CHECK"),
        ({"frequency": "DAILY", "targetCheckNames": [OTHER]}, f"not enabled for the account: {OTHER}"),
        ({"frequency": "DAILY", "name": "bad.name"}, "letters, digits"),
    ],
)
def test_create_validation(iot, kwargs, message):
    configure_audit(iot, CHECK)
    name = kwargs.pop("name", "s1")
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    kwargs.setdefault("targetCheckNames", [CHECK])
    code, text = error_of(iot.create_scheduled_audit, scheduledAuditName=name, **kwargs)
    assert code == "InvalidRequestException"
    assert message in text


def test_create_needs_a_configured_account(iot):
    code, text = error_of(create, iot, frequency="DAILY")
    assert code == "InvalidRequestException" and "not configured" in text


def test_duplicate_name_and_limit_of_five(iot):
    configure_audit(iot, CHECK)
    for i in range(5):
        create(iot, f"s{i}", frequency="DAILY")
    assert error_of(create, iot, "s0", frequency="DAILY")[0] == "ResourceAlreadyExistsException"
    assert error_of(create, iot, "s5", frequency="DAILY")[0] == "LimitExceededException"
    iot.delete_scheduled_audit(scheduledAuditName="s4")
    create(iot, "s5", frequency="DAILY")


def test_update_keeps_the_rules(iot):
    configure_audit(iot, CHECK)
    create(iot)
    # MONTHLY without a day of month, or a weekday sent with it, is refused; nothing changes.
    assert error_of(iot.update_scheduled_audit, scheduledAuditName="weekly", frequency="MONTHLY")[0] == (
        "InvalidRequestException"
    )
    code, text = error_of(
        iot.update_scheduled_audit, scheduledAuditName="weekly", frequency="MONTHLY", dayOfMonth="2",
        dayOfWeek="MON",
    )  # fmt: skip
    assert code == "InvalidRequestException" and "dayOfWeek cannot be set" in text
    code, text = error_of(iot.update_scheduled_audit, scheduledAuditName="weekly", targetCheckNames=[OTHER])
    assert code == "InvalidRequestException" and OTHER in text
    assert iot.describe_scheduled_audit(scheduledAuditName="weekly")["frequency"] == "WEEKLY"
    # Changing only the weekday keeps the frequency.
    iot.update_scheduled_audit(scheduledAuditName="weekly", dayOfWeek="SUN")
    described = iot.describe_scheduled_audit(scheduledAuditName="weekly")
    assert (described["frequency"], described["dayOfWeek"]) == ("WEEKLY", "SUN")
    assert error_of(iot.update_scheduled_audit, scheduledAuditName="nope", frequency="DAILY")[0] == (
        "ResourceNotFoundException"
    )
    assert error_of(iot.delete_scheduled_audit, scheduledAuditName="nope")[0] == "ResourceNotFoundException"


def test_a_check_used_by_a_schedule_cannot_be_disabled(iot):
    configure_audit(iot, CHECK)
    create(iot)
    code, text = error_of(
        iot.update_account_audit_configuration, auditCheckConfigurations={CHECK: {"enabled": False}}
    )
    assert code == "InvalidRequestException" and "weekly" in text


def test_list_pages(iot):
    configure_audit(iot, CHECK)
    for i in range(5):
        create(iot, f"s{i}", frequency="DAILY")
    names, token, pages = [], None, 0
    while True:
        reply = iot.list_scheduled_audits(maxResults=2, **({"nextToken": token} if token else {}))
        names += [s["scheduledAuditName"] for s in reply["scheduledAudits"]]
        pages += 1
        token = reply.get("nextToken")
        if not token:
            break
    assert pages == 3 and names == [f"s{i}" for i in range(5)]


# -- the calendar ---------------------------------------------------------------------------------


@pytest.fixture
def move_to_day(sandbox_url):
    """Sets a short sandbox day; `move_to_day(k)` moves the clock to the middle of day k and runs the
    scheduler. The clock is put back afterwards so other tests see ordinary time."""
    rt = runtime()
    rt.options.day_seconds = DAY
    moved = 0.0

    def move(k: int) -> None:
        nonlocal moved
        delta = rt.started + (k + 0.5) * DAY - rt.clock.now()
        rt.clock.advance(delta)
        moved += delta
        scheduler.advance(defender_state(), rt.clock.now())

    yield move
    rt.clock.advance(-moved)


def fired_days(iot) -> dict[str, list[int]]:
    """Sandbox day of every scheduled run, by schedule name (read through the API)."""
    now = runtime().clock.now()
    window = {
        "startTime": datetime.fromtimestamp(now - 86400, UTC),
        "endTime": datetime.fromtimestamp(now + 1, UTC),
    }
    task_ids = [
        t["taskId"]
        for t in iot.list_audit_tasks(taskType="SCHEDULED_AUDIT_TASK", maxResults=250, **window)["tasks"]
    ]
    days: dict[str, list[int]] = {}
    for task_id in task_ids:
        task = iot.describe_audit_task(taskId=task_id)
        assert task["taskType"] == "SCHEDULED_AUDIT_TASK"
        days.setdefault(task["scheduledAuditName"], []).append(day_index(task["taskStartTime"].timestamp()))
    return {name: sorted(d) for name, d in days.items()}


def test_daily_fires_once_a_day_but_not_on_its_creation_day(iot, move_to_day):
    configure_audit(iot, CHECK)
    today = day_index(runtime().clock.now())
    move_to_day(today)
    create(iot, "daily", frequency="DAILY")
    move_to_day(today)
    assert fired_days(iot) == {}
    move_to_day(today + 1)
    scheduler.advance(defender_state(), runtime().clock.now())  # a second tick the same day
    assert fired_days(iot) == {"daily": [today + 1]}
    move_to_day(today + 2)
    assert fired_days(iot) == {"daily": [today + 1, today + 2]}
    task_id = iot.list_audit_tasks(
        startTime=datetime.fromtimestamp(runtime().clock.now() - 3600, UTC),
        endTime=datetime.fromtimestamp(runtime().clock.now() + 1, UTC),
    )["tasks"][0]["taskId"]
    assert set(iot.describe_audit_task(taskId=task_id)["auditDetails"]) == {CHECK}


def test_each_frequency_fires_on_its_days_only(iot, move_to_day):
    configure_audit(iot, CHECK)
    k0 = day_index(runtime().clock.now())
    move_to_day(k0)
    weekday = WEEKDAYS[day_date(k0 + 3).weekday()]
    dom_day = next(k for k in range(k0 + 2, k0 + 40) if day_date(k).day <= 28)
    create(iot, "daily", frequency="DAILY")
    create(iot, "weekly", frequency="WEEKLY", dayOfWeek=weekday)
    create(iot, "biweekly", frequency="BIWEEKLY", dayOfWeek=weekday)
    create(iot, "monthly", frequency="MONTHLY", dayOfMonth=str(day_date(dom_day).day))
    create(iot, "last", frequency="MONTHLY", dayOfMonth="LAST")
    span = range(k0 + 1, k0 + 41)
    for k in span:
        move_to_day(k)

    month_length = cal.monthrange(day_date(dom_day).year, day_date(dom_day).month)[1]
    month_ends = [k for k in span if day_date(k + 1).day == 1]
    fired = fired_days(iot)
    assert fired["daily"] == list(span)
    assert fired["weekly"] == [k0 + 3, k0 + 10, k0 + 17, k0 + 24, k0 + 31, k0 + 38]
    assert fired["biweekly"] == [k0 + 3, k0 + 17, k0 + 31]
    assert fired["monthly"] == [d for d in (dom_day, dom_day + month_length) if d in span]
    assert month_ends and fired["last"] == month_ends


def test_schedule_whose_checks_are_all_disabled_is_skipped(iot, move_to_day):
    configure_audit(iot, CHECK)
    k0 = day_index(runtime().clock.now())
    move_to_day(k0)
    create(iot, "daily", frequency="DAILY")
    # The API refuses to disable a check in use; an account restored from elsewhere may still have one.
    state = defender_state()
    with state.lock:
        state.audit_config.checks[CHECK].enabled = False
    move_to_day(k0 + 1)
    assert fired_days(iot) == {}
    with state.lock:
        state.audit_config.checks[CHECK].enabled = True
    move_to_day(k0 + 2)
    assert fired_days(iot) == {"daily": [k0 + 2]}


def schedule(frequency: str, day_of_week: str | None = None, day_of_month: str | None = None):
    return ScheduledAudit("s", "arn", frequency, day_of_month, day_of_week, [CHECK], created=0.0)


def test_monthly_day_beyond_the_month_runs_on_its_last_day():
    # AWS: days 29-31 in a shorter month run on the LAST day of that month.
    created = date(2025, 1, 1)
    on_31 = schedule("MONTHLY", day_of_month="31")
    days = (date(2025, 4, 29), date(2025, 4, 30), date(2025, 5, 30), date(2025, 5, 31))
    assert [scheduler.matches(on_31, d, created) for d in days] == [False, True, False, True]
    on_30 = schedule("MONTHLY", day_of_month="30")
    assert scheduler.matches(on_30, date(2024, 2, 29), created)
    assert not scheduler.matches(on_30, date(2024, 2, 28), created)
    assert scheduler.matches(on_30, date(2024, 3, 30), created)


def test_biweekly_created_on_its_weekday_first_runs_a_week_later():
    created = date(2025, 6, 4)  # a Wednesday
    wed = schedule("BIWEEKLY", day_of_week="WED")
    runs = [d for d in (date(2025, 6, m) for m in range(5, 31)) if scheduler.matches(wed, d, created)]
    assert runs == [date(2025, 6, 11), date(2025, 6, 25)]
