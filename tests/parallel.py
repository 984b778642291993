"""Real concurrency in tests: calls released together by a barrier, each on
its own thread and therefore its own database connection."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def in_parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at once (a barrier releases them together), each thread on its own connection;
    an exception a call raises is its result."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = calls[index]()
        except Exception as exc:  # reported to the test as a result
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
