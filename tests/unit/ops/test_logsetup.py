"""Log output: readable text by default, JSON lines on request, and no secret in either."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime

import pytest

from sheetsync.ops.logsetup import forget_secrets, register_secret, setup_logging

SMTP_PASSWORD = "correct-horse-battery"
TOKEN = "ya29.a0AfH6SMBx3-secret"


@pytest.fixture
def out() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)
    forget_secrets()


def lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_text_is_the_default_and_reads_as_a_sentence(out: io.StringIO) -> None:
    setup_logging(stream=out, environ={})

    logging.getLogger("sheetsync.sync").info(
        "synced %d rows", 12, extra={"workbook": "Sales Q3", "tab": "OKRs"}
    )

    [line] = lines(out)
    assert line.endswith('INFO    sheetsync.sync: synced 12 rows workbook="Sales Q3" tab=OKRs')
    datetime.strptime(line[:19], "%Y-%m-%d %H:%M:%S")


def test_json_is_one_object_per_line_with_the_extras(out: io.StringIO) -> None:
    setup_logging("json", stream=out, environ={})
    log = logging.getLogger("sheetsync.sync")

    log.info("synced %d rows", 12, extra={"workbook": "Sales", "duration": 1.5})
    log.warning("quota: waiting", extra={"workbook": "Ops"})

    first, second = (json.loads(line) for line in lines(out))
    assert first == {
        "time": first["time"],
        "level": "INFO",
        "logger": "sheetsync.sync",
        "message": "synced 12 rows",
        "workbook": "Sales",
        "duration": 1.5,
    }
    assert datetime.fromisoformat(first["time"]).utcoffset().total_seconds() == 0
    assert (second["level"], second["workbook"]) == ("WARNING", "Ops")


def test_json_carries_the_traceback(out: io.StringIO) -> None:
    setup_logging("json", stream=out, environ={})

    try:
        raise KeyError("Owner")
    except KeyError:
        logging.getLogger("sheetsync").exception("workbook failed", extra={"workbook": "Sales"})

    [entry] = (json.loads(line) for line in lines(out))
    assert entry["message"] == "workbook failed"
    assert "Traceback" in entry["exception"]
    assert "KeyError: 'Owner'" in entry["exception"]


def test_level_filters_records(out: io.StringIO) -> None:
    setup_logging(level="WARNING", stream=out, environ={})

    logging.getLogger("sheetsync").info("not shown")
    logging.getLogger("sheetsync").warning("shown")

    assert [line.rsplit(": ", 1)[1] for line in lines(out)] == ["shown"]


def test_setting_up_twice_does_not_double_the_lines(out: io.StringIO) -> None:
    setup_logging(stream=out, environ={})
    setup_logging("json", stream=out, environ={})

    logging.getLogger("sheetsync").warning("once")

    assert len(lines(out)) == 1


def test_secret_environment_values_are_redacted_everywhere(out: io.StringIO) -> None:
    env = {"SHEETSYNC_SMTP_PASSWORD": SMTP_PASSWORD, "GOOGLE_TOKEN": TOKEN, "HOME": "/home/ops"}
    setup_logging("json", stream=out, environ=env)
    log = logging.getLogger("smtplib-or-anything")

    log.warning("login failed for %s", SMTP_PASSWORD, extra={"header": f"Bearer {TOKEN}"})
    try:
        raise RuntimeError(f"auth with {TOKEN} refused")
    except RuntimeError:
        log.exception("request failed")

    text = out.getvalue()
    assert SMTP_PASSWORD not in text
    assert TOKEN not in text
    first, second = (json.loads(line) for line in lines(out))
    assert first["message"] == "login failed for ***"
    assert first["header"] == "Bearer ***"
    assert "auth with *** refused" in second["exception"]


def test_registered_secrets_are_redacted_in_text_too(out: io.StringIO) -> None:
    setup_logging(stream=out, environ={})
    register_secret("from-a-password-file")

    logging.getLogger("sheetsync").error("SMTP said: bad password from-a-password-file")

    assert lines(out)[0].endswith("SMTP said: bad password ***")


def test_a_secret_inside_a_url_is_redacted_in_its_encoded_form(out: io.StringIO) -> None:
    setup_logging(stream=out, environ={"API_KEY": "p@ss/word+1"})

    logging.getLogger("sheetsync").info("GET https://x.test/?key=p%40ss%2Fword%2B1")

    assert lines(out)[0].endswith("GET https://x.test/?key=***")


def test_short_and_unrelated_values_are_left_alone(out: io.StringIO) -> None:
    # A three-letter "key" would blank out ordinary words; HOME is not a secret at all.
    setup_logging(stream=out, environ={"SORT_KEY": "name", "HOME": "/home/ops"})

    logging.getLogger("sheetsync").info("sorted by name in /home/ops")

    assert lines(out)[0].endswith("sorted by name in /home/ops")


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="'text' or 'json'"):
        setup_logging("yaml")  # type: ignore[arg-type]
