"""``/endpoints`` routes: the endpoints, their health at a glance, their secrets,
enable/disable, status, breaker history, deliveries (listed and counted), replays and the test
ping (thin over services.endpoints, services.deliveries and
services.endpoint_test)."""

from __future__ import annotations

import asyncio

from tornado.ioloop import IOLoop

from core.validation import parse_utc_datetime

from ..delivery.claims import record_attempt
from ..endpoints.validation import validate_endpoint, validate_rotation
from ..services import deliveries, endpoint_activity, endpoint_health, endpoint_test, endpoints
from .base import PmsHandler
from .deliveries import delivery_filter


class EndpointBase(PmsHandler):
    def optional_json_body(self) -> dict:
        """Actions take an optional body: none, or a JSON object."""
        return self.json_body() if self.body.strip() else {}

    async def check_address(self, values: dict) -> None:
        """422 on ``url`` when its host resolves to a refused address (the name is resolved on
        an executor thread: never on the IOLoop)."""
        await IOLoop.current().run_in_executor(
            None, endpoints.check_address, values, self.config.endpoint_denied_networks
        )


class EndpointsHandler(EndpointBase):
    route_name = "endpoints"

    async def get(self) -> None:
        rows, cursor = await self.store.run(endpoints.list_endpoints, self.config, self.page_request())
        self.write_list(rows, cursor)

    async def post(self) -> None:
        values = validate_endpoint(self.json_body())
        await self.check_address(values)
        self.write_data(await self.store.run(endpoints.create_endpoint, self.actor, self.config, values), 201)


class EndpointHandler(EndpointBase):
    route_name = "endpoint"

    async def get(self, endpoint_id: str) -> None:
        self.write_data(await self.store.run(endpoints.get_endpoint, self.config, self.path_id(endpoint_id)))

    async def put(self, endpoint_id: str) -> None:
        values = validate_endpoint(self.json_body(), partial=True)
        await self.check_address(values)
        self.write_data(
            await self.store.run(endpoints.update_endpoint, self.actor, self.config, self.path_id(endpoint_id), values)
        )

    async def delete(self, endpoint_id: str) -> None:
        await self.store.run(endpoints.delete_endpoint, self.actor, self.path_id(endpoint_id))
        self.set_status(204)
        self.finish()


class RotateSecretHandler(EndpointBase):
    route_name = "endpoint_rotate_secret"

    async def post(self, endpoint_id: str) -> None:
        overlap = validate_rotation(self.optional_json_body())
        secret = await self.store.run(endpoints.rotate_secret, self.actor, self.path_id(endpoint_id), overlap)
        self.write_data({"secret": secret})


class EnableHandler(EndpointBase):
    route_name = "endpoint_enable"

    async def post(self, endpoint_id: str) -> None:
        self.write_data(
            await self.write_change(endpoints.enable_endpoint, self.actor, self.config, self.path_id(endpoint_id))
        )


class DisableHandler(EndpointBase):
    route_name = "endpoint_disable"

    async def post(self, endpoint_id: str) -> None:
        self.write_data(
            await self.store.run(endpoints.disable_endpoint, self.actor, self.config, self.path_id(endpoint_id))
        )


class StatusHandler(EndpointBase):
    route_name = "endpoint_status"

    async def get(self, endpoint_id: str) -> None:
        self.write_data(
            await self.store.run(deliveries.webhook_status, self.path_id(endpoint_id), self.settings["outbox_counts"])
        )


class EndpointsActivityHandler(EndpointBase):
    route_name = "endpoints_activity"

    async def get(self) -> None:
        self.write_data(
            await self.store.run(
                endpoint_activity.endpoints_activity,
                self.settings["attempt_minutes"],
                self.config.delivery_timeout_seconds,
            )
        )


class EndpointDeliveriesHandler(EndpointBase):
    route_name = "endpoint_deliveries"

    async def get(self, endpoint_id: str) -> None:
        page = self.page_request()
        where = delivery_filter(self, types=None)
        rows, cursor = await self.store.run(deliveries.list_endpoint_deliveries, page, self.path_id(endpoint_id), where)
        self.write_list(rows, cursor)


class EndpointDeliveriesCountHandler(EndpointBase):
    route_name = "endpoint_deliveries_count"

    async def get(self, endpoint_id: str) -> None:
        count = await self.store.run(
            deliveries.count_endpoint_deliveries, self.path_id(endpoint_id), delivery_filter(self, types=None)
        )
        self.write_data({"count": count})


class EndpointTransitionsHandler(EndpointBase):
    route_name = "endpoint_transitions"

    async def get(self, endpoint_id: str) -> None:
        rows, cursor = await self.store.run(
            deliveries.list_endpoint_transitions, self.page_request(), self.path_id(endpoint_id)
        )
        self.write_list(rows, cursor)


class EndpointsHealthHandler(EndpointBase):
    route_name = "endpoints_health"

    async def get(self) -> None:
        rows, cursor = await self.store.run(endpoint_health.list_health, self.page_request())
        self.write_list(rows, cursor)


class EndpointDeliveryHandler(EndpointBase):
    route_name = "endpoint_delivery"

    async def get(self, endpoint_id: str, event_id: str) -> None:
        self.write_data(await self.store.run(deliveries.get_delivery, event_id, self.path_id(endpoint_id)))


class EndpointReplayHandler(EndpointBase):
    route_name = "endpoint_delivery_replay"

    async def post(self, endpoint_id: str, event_id: str) -> None:
        replayed = await self.write_change(deliveries.replay, self.actor, event_id, self.path_id(endpoint_id))
        self.write_data(replayed, 202)


class EndpointReplayManyHandler(EndpointBase):
    route_name = "endpoint_deliveries_replay"

    async def post(self, endpoint_id: str) -> None:
        body = self.optional_json_body()
        since = body.get("since")
        if since is not None and not isinstance(since, str):
            since = ""  # refused below with the field's message
        when = parse_utc_datetime("since", since) if since is not None else None
        # With a time, every delivery since then whatever its state (recover); without, the failed ones.
        replayed = await self.write_change(
            deliveries.replay_endpoint, self.actor, self.path_id(endpoint_id), when, when is not None
        )
        self.write_data({"replayed": replayed}, 202)


class EndpointTestHandler(EndpointBase):
    route_name = "endpoint_test"

    async def post(self, endpoint_id: str) -> None:
        config = self.config
        owner = f"test:{self.request_id}"[:64]
        ping = await self.store.run(
            endpoint_test.prepare,
            self.actor,
            self.path_id(endpoint_id),
            owner,
            config.delivery_timeout_seconds,
            config.delivery_lease_seconds,
        )
        # The HTTP call runs on the default executor: it must not hold a database thread.
        record = await asyncio.get_running_loop().run_in_executor(
            None, endpoint_test.send, ping, config.endpoint_denied_networks
        )

        def settle() -> dict:
            record_attempt(ping.claim, record, None)
            return endpoint_test.attempt_of(ping)

        self.write_data(await self.store.run(settle))


default_handlers = [
    (r"/endpoints", EndpointsHandler),
    (r"/endpoints/activity", EndpointsActivityHandler),
    (r"/endpoints/health", EndpointsHealthHandler),
    (r"/endpoints/([0-9]+)", EndpointHandler),
    (r"/endpoints/([0-9]+)/secret/rotate", RotateSecretHandler),
    (r"/endpoints/([0-9]+)/enable", EnableHandler),
    (r"/endpoints/([0-9]+)/disable", DisableHandler),
    (r"/endpoints/([0-9]+)/status", StatusHandler),
    (r"/endpoints/([0-9]+)/test", EndpointTestHandler),
    (r"/endpoints/([0-9]+)/transitions", EndpointTransitionsHandler),
    (r"/endpoints/([0-9]+)/deliveries", EndpointDeliveriesHandler),
    (r"/endpoints/([0-9]+)/deliveries/count", EndpointDeliveriesCountHandler),
    (r"/endpoints/([0-9]+)/deliveries/replay", EndpointReplayManyHandler),
    (r"/endpoints/([0-9]+)/deliveries/([^/]+)/replay", EndpointReplayHandler),
    (r"/endpoints/([0-9]+)/deliveries/([^/]+)", EndpointDeliveryHandler),
]
