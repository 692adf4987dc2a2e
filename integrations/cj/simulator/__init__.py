"""A local CJ API 2.0 simulator (CONTRACT.md): `python manage.py cj_simulator`.

`server` (HTTP glue), `api` (the CJ endpoints), `control` (the /_sim/ test endpoints), `state`
(clock, tokens, limits, faults, stats), `catalog` (the deterministic catalog), `webhooks` (signed pushes).
"""
