"""``molgen serve``: exported models behind an HTTP API (FastAPI + uvicorn, an optional extra: ``pip install
molgen[serve]``).

Modules: ``settings`` (the typed server options, also the CLI flags), ``schemas`` (request/response models, the
OpenAPI schema), ``models`` (the served models, loaded once per worker, and what each endpoint runs),
``batching`` (dynamic batching of concurrent predict requests), ``limits`` (body size, concurrency, auth),
``metrics`` (Prometheus) and ``app`` (the ASGI application). Nothing here is imported by ``molgen --help``.
"""
