"""The shared password cannot be guessed at speed, from one tab or from many."""

from pmdata.sign_in import FREE_FAILURES, SignInGuard


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_typo_costs_nothing_and_the_right_password_clears_the_count(tmp_path):
    guard = SignInGuard(Clock(), str(tmp_path / "sign-in.log"))
    for _ in range(FREE_FAILURES - 1):
        assert guard.attempt("10.0.0.7", "hunter", "hunter2").message() == "Wrong password."
    assert guard.attempt("10.0.0.7", "hunter2", "hunter2").signed_in
    assert guard.wait_for("10.0.0.7") == 0


def test_guesses_wait_longer_and_longer_and_are_not_even_checked_meanwhile(tmp_path):
    clock = Clock()
    guard = SignInGuard(clock, str(tmp_path / "sign-in.log"))
    for n in range(FREE_FAILURES):
        assert not guard.attempt("10.0.0.7", f"guess{n}", "hunter2").signed_in
    waits = []
    for n in range(8):
        wait = guard.wait_for("10.0.0.7")
        refused = guard.attempt("10.0.0.7", "hunter2", "hunter2")  # right, but too soon
        assert not refused.signed_in and refused.wait_s == wait > 0
        assert "try again in" in refused.message()
        clock.now += wait
        assert not guard.attempt("10.0.0.7", f"more{n}", "hunter2").signed_in
        waits.append(wait)
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128]
    # 3 + 8 guesses took over four minutes; another client is not held up by them
    assert guard.attempt("10.0.0.8", "hunter2", "hunter2").signed_in


def test_every_failure_is_logged_with_the_client(tmp_path):
    log = tmp_path / "sign-in.log"
    guard = SignInGuard(Clock(), str(log))
    for _ in range(FREE_FAILURES + 5):  # the last five come too soon: one line for them all
        guard.attempt("192.168.1.23", "x", "hunter2")
    lines = log.read_text().splitlines()
    assert len(lines) == FREE_FAILURES + 1
    assert all("failed sign-in from 192.168.1.23" in line for line in lines[:-1])
    assert "the next is checked in 1 s" in lines[-2]
    assert "refused sign-in from 192.168.1.23 (waiting 1 s more)" in lines[-1]
