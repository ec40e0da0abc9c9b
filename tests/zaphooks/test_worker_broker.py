"""The workers' broker connection after a broker restart (kartra_integrations.celery.BrokerConnection)."""

from kartra_integrations.celery import app


def test_closing_a_collected_broker_connection_leaves_its_old_channel_alone(monkeypatch):
    # What Celery's consumer does when the broker connection breaks: collect(), then close(). The
    # second close of the collected connection's channel crashed the worker (see BrokerConnection).
    connection = app.amqp.Connection("memory://")
    channel = connection.default_channel
    connection.collect()
    closed_again = []
    monkeypatch.setattr(channel, "close", lambda: closed_again.append(channel))
    connection.close()
    assert closed_again == []
