"""GraphQL plumbing both services share (see docs/graphql.md).

``limits`` refuses too deep or too costly operations before they run, ``errors`` shapes every
failure as the GraphQL spec's error list, ``execution`` runs one request through the library,
``relay`` builds Relay connections over the REST keyset cursors, ``context`` holds what a
request's resolvers share (the ``Store``, per-request batch loaders), ``handler`` is the thin
``POST /graphql`` Tornado handler and ``ws`` the ``graphql-transport-ws`` websocket.
"""
