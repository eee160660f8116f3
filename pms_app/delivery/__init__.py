"""Delivery of outbox events to the CRM: claims, signed sends, retries, the circuit breaker.

``worker.DeliveryWorker`` ties the pieces together; each module below owns one mechanism.
"""
