"""Shared core of the Guestsync services: config, database, handlers, signing, logging, metrics.

Everything two applications need lives here once; the apps import it, never copy it.
"""
