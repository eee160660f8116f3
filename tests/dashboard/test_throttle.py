"""The sign-in throttle on a fake clock: per address and per name, growing delays, no global lockout."""

from __future__ import annotations

from dashboard.throttle import LoginThrottle


def make(**options) -> tuple[LoginThrottle, list[float]]:
    now = [1000.0]
    return LoginThrottle(clock=lambda: now[0], **options), now


def test_free_failures_then_delays_that_double_up_to_the_cap():
    throttle, now = make(free_per_user=3, free_per_address=100, base_delay=1, max_delay=60)
    for _ in range(2):
        throttle.failed("10.0.0.1", "alice")
        assert throttle.retry_after("10.0.0.1", "alice") is None
    waits = []
    for _ in range(9):
        throttle.failed("10.0.0.1", "alice")
        waits.append(throttle.retry_after("10.0.0.1", "alice"))
        now[0] += waits[-1]
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_the_wait_counts_down_and_rounds_up():
    throttle, now = make(free_per_user=1, base_delay=4)
    throttle.failed("a", "alice")
    assert throttle.retry_after("a", "alice") == 4
    now[0] += 2.5
    assert throttle.retry_after("a", "alice") == 2
    now[0] += 1.4
    assert throttle.retry_after("a", "alice") == 1
    now[0] += 0.1
    assert throttle.retry_after("a", "alice") is None


def test_a_name_under_attack_from_many_addresses_is_slowed_but_others_are_not():
    throttle, now = make(free_per_user=5, free_per_address=10)
    for i in range(5):
        throttle.failed(f"10.0.0.{i}", "alice")
    assert throttle.retry_after("192.168.1.1", "alice") == 1
    assert throttle.retry_after("192.168.1.1", "bob") is None
    assert throttle.retry_after("10.0.0.1", "bob") is None


def test_one_address_is_slowed_whatever_name_it_tries_and_other_addresses_are_not():
    throttle, now = make(free_per_user=5, free_per_address=10)
    for i in range(10):
        throttle.failed("10.0.0.1", f"name{i}")
    assert throttle.retry_after("10.0.0.1", "someone-new") == 1
    assert throttle.retry_after("10.0.0.2", "name1") is None


def test_failures_from_everywhere_never_lock_out_everyone():
    throttle, now = make(free_per_user=5, free_per_address=10)
    for i in range(5000):
        throttle.failed(f"10.{i // 250}.{i % 250}.1", f"guess{i}")
    assert throttle.retry_after("192.168.1.1", "alice") is None
    assert throttle.retry_after("192.168.1.1", "ops") is None


def test_success_clears_the_name_and_takes_back_only_its_own_attempt_from_the_address():
    throttle, now = make(free_per_user=3, free_per_address=4)
    throttle.failed("a", "alice")
    throttle.failed("a", "alice")
    throttle.failed("a", "alice")  # the attempt being checked, counted in advance
    assert throttle.retry_after("b", "alice") == 1
    throttle.succeeded("a", "alice")  # ...and it was right
    assert throttle.retry_after("b", "alice") is None
    assert throttle.retry_after("a", "carol") is None
    throttle.failed("a", "bob")
    throttle.failed("a", "bob")
    assert throttle.retry_after("a", "carol") == 1  # the two earlier failures from "a" still count


def test_many_successes_from_one_address_never_add_up():
    throttle, now = make(free_per_address=3)
    for _ in range(50):
        throttle.failed("office", "alice")
        throttle.succeeded("office", "alice")
    assert throttle.retry_after("office", "bob") is None and len(throttle) == 0


def test_counters_are_forgotten_after_a_quiet_period():
    throttle, now = make(free_per_user=2, free_per_address=100, forget_after=900)
    throttle.failed("a", "alice")
    now[0] += 901
    throttle.failed("a", "alice")
    assert throttle.retry_after("a", "alice") is None  # the first failure was forgotten
    now[0] += 899
    throttle.failed("a", "alice")
    assert throttle.retry_after("a", "alice") == 1


def test_memory_stays_bounded_and_the_busiest_counters_survive():
    throttle, now = make(free_per_user=3, free_per_address=10**6, max_tracked=1000)
    for _ in range(3):
        throttle.failed("attacker", "alice")
    for i in range(20_000):
        throttle.failed("attacker", f"name-{i}-" + "x" * 500)
        if i % 100 == 0:
            throttle.failed("attacker", "alice")  # still under attack: still remembered
    assert len(throttle) <= 1000
    assert throttle.retry_after("elsewhere", "alice") is not None
