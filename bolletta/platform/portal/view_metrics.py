"""Prometheus counters of the page views: who wrote them, and the view writer process's state.

Under ``bolletta serve --processes N`` every process of the command writes these to the shared
metrics folder, and a scrape reports the sum, so the counters of a view writer process that was
restarted are kept. The views a killed view writer had received but not committed are not counted
anywhere: they were in its memory, or unread in its socket buffers. They show as the difference
between ``bolletta_page_views_relayed_total`` and
``bolletta_page_views_written_total{writer="view_writer"}``, which stays above zero once the servers
are idle.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

SERVER = "server"
"""The ``writer`` label of views a server process wrote itself."""
VIEW_WRITER = "view_writer"
"""The ``writer`` label of views the view writer process wrote."""

RELAYED = Counter("bolletta_page_views_relayed", "Page views a server process handed to the view writer "
                  "process (sent to its socket).")
WRITTEN = Counter("bolletta_page_views_written", "Page views committed to the database, by the process that "
                  "wrote them: server (a server process) or view_writer (the view writer process).", ["writer"])
FALLBACK = Counter("bolletta_page_views_fallback", "Page views a server process wrote itself because the view "
                   "writer process was unreachable (also counted in bolletta_page_views_written_total).")
DROPPED = Counter("bolletta_page_views_dropped", "Page views dropped: the queue outgrew its limit while the "
                  "database was unreachable, or the write at process exit failed.", ["writer"])
WRITER_STARTS = Counter("bolletta_view_writer_starts", "Starts of the view writer process since bolletta serve "
                        "started; each one after the first is a restart.")
WRITER_UP = Gauge("bolletta_view_writer_up", "1 while the view writer process runs and listens.",
                  multiprocess_mode="livesum")
