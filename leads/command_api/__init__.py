"""The platform's own command API: `POST /api` (reference sections 1-4), a drop-in for existing
Kartra API clients. Parsing (parsing.py), the code registry and reply envelopes (codes.py),
app and credential checks (access.py), the reads answered from selectors (reads.py), the one entry
to the command registry (commands.run_command) and the view (views.py)."""
