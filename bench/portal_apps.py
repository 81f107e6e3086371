"""The two ASGI apps ``bench/portal.py`` serves with uvicorn: the real app, and a bare baseline page.

Both are served the way ``bolletta serve --processes N`` serves the real app: N spawned processes,
each listening on its own ``SO_REUSEPORT`` socket (:mod:`bolletta.platform.web.server`).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from jinja2 import Environment
from litestar import Litestar, Response, get

from bolletta.platform.portal import view_writer_process
from bolletta.platform.web.server import run_processes, serve_app

BASELINE_TEMPLATE = """<!DOCTYPE html><html lang="it"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><main><h1>{{ title }}</h1>{% for row in rows %}<div class="row"><dt>{{ row.label }}</dt><dd>{{ row.value }}</dd>
</div>{% endfor %}</main></body></html>"""


def create_real() -> Any:
    """The production app, configured from the environment as ``bolletta serve`` does, without a worker."""
    from bolletta.platform import runtime, workers
    from bolletta.platform.app import create_app, freeze_startup_objects
    from bolletta.platform.settings import load_settings

    settings = load_settings()
    rt = runtime.configure(settings)
    workers.setup_broker(settings)
    workers.load_actors()
    app = create_app(rt)
    freeze_startup_objects()
    return app


def create_baseline() -> Litestar:
    """A minimal Litestar app rendering a template as large as the real summary page, with no database."""
    size = int(os.environ.get("BENCH_PAGE_BYTES", "20000"))
    template = Environment(autoescape=True).from_string(BASELINE_TEMPLATE)
    row_bytes = len('<div class="row"><dt>Etichetta 000</dt><dd>Valore della riga 000 €</dd>\n</div>')
    rows = [{"label": f"Etichetta {index:03d}", "value": f"Valore della riga {index:03d} €"}
            for index in range(max(size // row_bytes, 1))]

    @get("/page", sync_to_thread=False)
    def page() -> Response[str]:
        return Response(content=template.render(title="Sommario", rows=rows), media_type="text/html; charset=utf-8")

    return Litestar(route_handlers=[page], logging_config=None)


def serve(kind: str, port: int, processes: int) -> None:
    """Serve the ``real`` or ``baseline`` app on 127.0.0.1 from ``processes`` processes until SIGINT or SIGTERM.

    The real app gets the page view writer process, as under ``bolletta serve --processes N``.
    """
    if kind != "real":
        run_processes(_serve_one, (kind, port), processes)
        return
    with view_writer_process.running(logging.WARNING):
        run_processes(_serve_one, (kind, port), processes)


def _serve_one(kind: str, port: int) -> None:
    app = create_real() if kind == "real" else create_baseline()
    serve_app(app, "127.0.0.1", port, lifespan="off", access_log=False, log_level="warning")
