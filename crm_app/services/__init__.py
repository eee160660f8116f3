"""Domain logic of the CRM as plain synchronous functions, run inside a ``Store`` unit of work."""
