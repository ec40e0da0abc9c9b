"""The v1 REST API of the lead database (under /api/v1/, HTTP Basic): thin DRF views that
parse with an input serializer, call one service or selector, render an output serializer.

- urls: the routes, included by kartra_integrations.api_urls;
- reads: asset dropdowns, lead details and search, transactions, subscriptions;
- actions: `POST /api/v1/actions/{command}`, the write commands;
- events: `POST /api/v1/events`, what the platform's other parts report;
- inputs / outputs / event_inputs: the serializers; responses: the documented error responses.

Import from the modules themselves; nothing is re-exported here.
"""
