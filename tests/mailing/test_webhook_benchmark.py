"""`benchmarks/webhooks.py` as it runs by default: each shape must have bodies for
its whole run (SparkPost's 500 a request ran out of them at a fixed 8 s)."""

from benchmarks.webhooks import parse_args, run_seconds

# The most a quiet run here accepted (README, 2 December 2026), per request size.
QUIET_RATES = {1: 3_211, 500: 42_797}


def test_every_shape_has_bodies_for_its_default_run():
    args = parse_args([])
    for size, rate in QUIET_RATES.items():
        # wrk's answers plus one request in flight per connection.
        posted = rate * run_seconds(args, size) + args.connections * size
        assert posted < args.events, size


def test_seconds_given_are_the_run_of_every_shape():
    args = parse_args(["--seconds", "3"])
    assert run_seconds(args, 1) == run_seconds(args, 500) == 3
