"""Domain operations of the PMS as plain synchronous functions.

Each function is one unit of work: the caller runs it through ``Store.run``/``Store.call``,
which wraps it in a transaction, so a change and its outbox event commit together.
"""
