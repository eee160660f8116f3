"""The ops dashboard: server-rendered pages and a live websocket feed over the PMS and CRM APIs."""
