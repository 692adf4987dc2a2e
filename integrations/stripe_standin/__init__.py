"""localstripe (the PyPI package) with the thin layer of our own it needs to stand in for Stripe:
see server.py. A development and test tool, left out of the built wheel like the CJ simulator."""
