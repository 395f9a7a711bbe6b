"""Celery tasks of the webhooks app: ids in, one service call, nothing else."""

import logging

from celery import shared_task

from webhooks import services

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def deliver_webhook(delivery_id: int) -> None:
    """Send one webhook delivery if it is due; retries are scheduled by the service, not by Celery."""
    services.attempt_webhook_delivery(delivery_id=delivery_id)


@shared_task(acks_late=True, ignore_result=True)
def deliver_postback(delivery_id: int) -> None:
    """Fire one affiliate postback if it is due."""
    services.attempt_postback_delivery(delivery_id=delivery_id)


@shared_task(acks_late=True, ignore_result=True)
def dispatch_due_deliveries() -> int:
    """Beat, every minute: send every delivery whose (re)try is due, including any whose enqueue was lost."""
    return services.dispatch_due_deliveries()


def enqueue_webhook_delivery(delivery_id: int) -> None:
    """Enqueue after commit; a broker outage only delays the delivery until the next dispatch run."""
    try:
        deliver_webhook.delay(delivery_id)
    except Exception:  # the outbox row is safe; beat will pick it up
        logger.exception("Could not enqueue webhook delivery %s; dispatch_due_deliveries will send it", delivery_id)


def enqueue_postback_delivery(delivery_id: int) -> None:
    """Enqueue after commit; as above."""
    try:
        deliver_postback.delay(delivery_id)
    except Exception:
        logger.exception("Could not enqueue postback delivery %s; dispatch_due_deliveries will send it", delivery_id)
