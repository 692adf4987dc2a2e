"""The CJ endpoints the simulator serves under /api2.0/v1/, as CONTRACT.md documents them.

One module per CJ section, as the client groups them: `authentication`, `setting`, `product`,
`logistic`, `shopping`, `webhook`. Each handler takes the `Simulator` (lock held) and the parsed
request (`wire.SimRequest`) and returns the envelope's `data`, or raises `SimError` with CJ's code.
`routes.ROUTES` maps endpoint -> (HTTP method, handler, needs a token, points cost).
"""
