"""The OpenAPI 3.1 description of each API service, served at ``GET {base}/openapi.json``.

``spec`` holds the builder (schemas, operations, the error answers every route shares),
``shared`` the routes both services serve the same way (health, readiness, metrics, this
document, the reconciliation feeds, GraphQL), ``handler`` the route that serves it and
``files`` the copies kept in docs/openapi. Each service describes its own routes in its
``openapi`` module; tests hold every document to the service's live route table (routes,
methods, query arguments, bodies), so a route cannot be added without being described.
"""
