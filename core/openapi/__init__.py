"""The OpenAPI 3.1 description of each API service, served at ``GET {base}/openapi.json``.

``spec`` holds the builder (schemas, operations, the error answers every route shares),
``shared`` the routes both services serve the same way (health, readiness, metrics, this
document, the reconciliation feeds, GraphQL), ``handler`` the route that serves it. Each
service describes its own routes in its ``openapi`` module; a test holds every document to
the service's live route table, so a route cannot be added without being described.
"""
