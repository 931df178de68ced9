"""One connection: one group claimed at a time vs two half groups (the one on the
wire and one queued behind it, pipeline.RunJob.groups_per_connection).

    python benchmarks/sending_groups.py [recipients] [rounds]

Both variants run in one process, interleaved round by round, against the same
sink program (benchmarks.smtp_sink), so the shared machine's noise falls on both;
the medians are printed. PostgreSQL when DATABASE_URL is set, else SQLite.
"""

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import benchmarks.sending as bench  # noqa: E402 - ROOT on the path
from benchmarks.smtp_sink import start_sink_program  # noqa: E402


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 6
    sink, port = start_sink_program()
    bench.setup_django(port)
    from mailing.sending.pipeline import RunJob

    variants = {
        "one group a connection": lambda job, connections: 1,
        "two half groups (as coded)": RunJob.groups_per_connection,
    }
    rates = {name: [] for name in variants}
    bench.drop_bench_data()
    mailing = bench.make_mailing(count)
    try:
        bench.pipeline(mailing, concurrency=1)  # warm-up
        for _round in range(rounds):
            for name, groups in variants.items():
                RunJob.groups_per_connection = groups
                seconds, _queries = bench.pipeline(mailing, concurrency=1)
                rates[name].append(count / seconds)
    finally:
        bench.drop_bench_data()
        sink.terminate()
    for name, values in rates.items():
        print(f"{name + ':':30} median {statistics.median(values):6.0f} msg/s")
    first, second = (statistics.median(values) for values in rates.values())
    print(f"ratio two half groups / one group: {second / first:.2f}")


if __name__ == "__main__":
    main()
