from django.apps import AppConfig


class ZaphooksConfig(AppConfig):
    name = "zaphooks"

    def ready(self) -> None:
        """Hook delivery consumes the lead event outbox: it registers with leads, which never imports it."""
        from leads import outbox

        from . import delivery

        # After a transaction that wrote lead events commits: wake the dispatcher.
        outbox.on_events_committed(delivery.events_committed)
        # In a lead's erasure transaction: empty its hook payloads and stop their deliveries.
        outbox.on_events_erased(delivery.hook_events_erase)
