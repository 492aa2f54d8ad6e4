"""retry.py: the one retry engine (policy, backoff, max_retries) and what it logs."""

from __future__ import annotations

import itertools
import logging

import pytest
from fake_transport import exactly
from websocket_streaming import ConnectionFailed
from websocket_streaming.retry import Retry

NEUTRAL = {"jitter": lambda: 0.5}  # each delay exactly its base delay


def test_delays_grow_and_start_again_after_a_success():
    """Each failure gets the next backoff delay; succeeded() starts the schedule again."""
    retry = Retry(lambda exc: True, min_delay=1.0, max_delay=5.0, factor=2.0, **NEUTRAL)
    assert [retry.failed(ConnectionFailed("x")) for _ in range(4)] == [1.0, 2.0, 4.0, 5.0]
    assert retry.failures == 4
    retry.succeeded()
    assert (retry.failures, retry.failed(ConnectionFailed("x"))) == (0, 1.0)


def test_the_policy_declining_stops_without_counting():
    """policy(exc) False: None, not exhausted, nothing counted."""
    seen: list[BaseException] = []
    retry = Retry(lambda exc: seen.append(exc) or False, **NEUTRAL)
    error = ValueError("bug")
    assert retry.failed(error) is None
    assert (seen, retry.failures, retry.exhausted) == ([error], 0, False)


def test_max_retries_failures_are_retried_and_one_more_exhausts():
    """max_retries=2: two failures get a delay, the third stops with exhausted set."""
    retry = Retry(lambda exc: True, max_retries=2, **NEUTRAL)
    assert retry.failed(TimeoutError()) is not None
    assert retry.failed(TimeoutError()) is not None
    assert not retry.exhausted
    assert retry.failed(TimeoutError()) is None
    assert (retry.exhausted, retry.failures) == (True, 3)


def test_a_dropped_connection_is_not_a_failed_attempt():
    """attempt=False (an open connection ended): a delay, not counted against max_retries."""
    retry = Retry(lambda exc: True, max_retries=0, min_delay=1.0, **NEUTRAL)
    assert retry.failed(ConnectionFailed("dropped"), attempt=False) == 1.0
    assert (retry.failures, retry.exhausted) == (0, False)
    assert retry.failed(ConnectionFailed("refused")) is None
    assert retry.exhausted


def test_what_the_policy_raises_propagates():
    """A policy that raises (websockets' process_exception returning another error) ends it."""

    def policy(exc: BaseException) -> bool:
        raise RuntimeError("instead") from exc

    with pytest.raises(RuntimeError, match=exactly("instead")):
        Retry(policy).failed(ConnectionFailed("x"))


def test_custom_delays_replace_the_backoff():
    """delays(): a fresh iterator of delays per run of failures (websockets' reconnect_delays)."""
    retry = Retry(lambda exc: True, delays=lambda: itertools.count(10))
    assert [retry.failed(OSError()), retry.failed(OSError())] == [10, 11]
    retry.succeeded()
    assert retry.failed(OSError()) == 10


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"max_retries": -1}, ValueError, "max_retries must be >= 0, not -1"),
        ({"min_delay": "1"}, TypeError, "min_delay must be a number of seconds, not str"),
        ({"factor": 0.5}, ValueError, "factor must be at least 1, not 0.5"),
    ],
)
def test_bad_options_raise_at_once(options, error, message):
    """A backoff option or max_retries of the wrong type or range raises in the constructor."""
    with pytest.raises(error, match=exactly(message)):
        Retry(lambda exc: True, **options)


def test_logs_each_decision_on_the_library_logger(caplog):
    """INFO for a retry (with the delay) and a declined failure, WARNING when giving up; on
    the "websocket_streaming" logger, as websockets logs "connect failed; reconnecting"."""
    caplog.set_level(logging.INFO, logger="websocket_streaming")
    retry = Retry(lambda exc: not isinstance(exc, ValueError), max_retries=1, **NEUTRAL)
    retry.failed(ConnectionFailed("refused"))
    retry.failed(ConnectionFailed("dropped"), "connection closed", attempt=False)
    retry.failed(ConnectionFailed("again"))
    retry.failed(ValueError("bad"))
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "websocket_streaming",
            "INFO",
            "connect failed; reconnecting in 0.5 seconds: "
            "websocket_streaming.exceptions.ConnectionFailed: refused",
        ),
        (
            "websocket_streaming",
            "INFO",
            "connection closed; reconnecting in 0.8 seconds: "
            "websocket_streaming.exceptions.ConnectionFailed: dropped",
        ),
        (
            "websocket_streaming",
            "WARNING",
            "giving up after 2 failed attempts in a row: "
            "websocket_streaming.exceptions.ConnectionFailed: again",
        ),
        ("websocket_streaming", "INFO", "not retrying after ValueError: bad"),
    ]


def test_the_logger_is_silent_unless_configured():
    """The library adds no handler: an app that does not configure logging sees nothing."""
    assert logging.getLogger("websocket_streaming").handlers == []


def test_exhausted_says_only_why_the_last_failure_stopped():
    """exhausted is False until max_retries stops a run, and False again after a failure the
    policy declines (the stop was not max_retries')."""
    decline = False
    retry = Retry(lambda exc: not decline, max_retries=0, **NEUTRAL)
    assert retry.exhausted is False
    assert retry.failed(OSError()) is None and retry.exhausted is True
    decline = True
    assert retry.failed(OSError()) is None and retry.exhausted is False
