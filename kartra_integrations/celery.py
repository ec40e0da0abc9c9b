import os

import kombu
from celery import Celery
from celery.app.amqp import AMQP

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kartra_integrations.settings.development")


class BrokerConnection(kombu.Connection):
    """kombu's Connection, except that collect() also lets go of the default channel.

    Why: when the broker connection breaks, Celery 5.7's consumer calls collect() and then close()
    on it (celery PR #10242, for celery#9705). kombu 5.7's collect() detaches the transport
    (transport.client = None) but keeps the default channel; if that channel's close was cut short
    by the broken socket (Redis restarting), close() closes it again, and the Redis channel, to put
    back the messages it holds unacknowledged, builds a new connection pool from the detached
    transport: AttributeError "'NoneType' object has no attribute 'hostname'", which is not a
    connection error, so it escapes Celery's handling and the worker exits ("Unrecoverable error").
    A channel of a collected connection can do nothing more (kombu itself drops the default channel
    whenever it connects anew); the messages stay in Redis's unacked set and come back after the
    visibility timeout, as they would have had the first close failed anyway.
    """

    def collect(self, socket_timeout=None):
        super().collect(socket_timeout)
        self._default_channel = None


class BrokerAMQP(AMQP):
    Connection = BrokerConnection


app = Celery("kartra_integrations", amqp=BrokerAMQP)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
