"""The composition root every service shares: database, Kafka, outbox relay, clock, HTTP, health, metrics.

A service describes itself (its migrations, consumers, daily jobs, routes) and `Service` runs it:
FastAPI serves HTTP while the FastStream broker consumes in the same process and event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import date

import asyncpg
import uvicorn
from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from premiums_contracts.events import BusinessDateAdvanced
from premiums_contracts.topics import CLOCK_EVENTS
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest

from premiums_common import database, gc_tuning
from premiums_common.clock import BusinessClock, claim_daily_run, record_business_date
from premiums_common.consumer import EventConsumer, Incoming
from premiums_common.http_guard import GuardSettings, HttpGuard
from premiums_common.http_metrics import MeasureRequests
from premiums_common.kafka import make_broker, make_producer
from premiums_common.lag import consumer_lag
from premiums_common.logs import configure_logging
from premiums_common.outbox import OutboxRelay, Outgoing, add, backlog
from premiums_common.problems import install_problem_handlers
from premiums_common.settings import Settings
from premiums_common.tracing import configure_tracing

log = logging.getLogger(__name__)

DailyJob = Callable[[asyncpg.Connection, date], Awaitable[Sequence[Outgoing]] | AsyncIterator[Sequence[Outgoing]]]
"""A day's work in the transaction that records the date: a coroutine returning the events it causes, or an
async generator yielding them batch by batch (a bill day of every enrollment), so memory does not grow with
the size of the day."""
BackgroundTask = Callable[[], Awaitable[None]]

OUTBOX_BACKLOG = Gauge("premiums_outbox_backlog", "Outbox rows waiting to be published")
CONSUMER_LAG = Gauge("premiums_consumer_lag", "Records a consumer group has still to read", ["group"])
OUTBOX_AGE = Gauge("premiums_outbox_oldest_seconds", "Age of the oldest unpublished outbox row")


async def run_daily(con: asyncpg.Connection, run: DailyJob, day: date) -> None:
    """Run one daily job in `con`'s transaction, its events into the outbox as they come."""
    result = run(con, day)
    if isinstance(result, AsyncIterator):
        async for batch in result:
            await add(con, batch)
    else:
        await add(con, await result)


class Service:
    def __init__(self, settings: Settings, *, package: str, title: str, description: str) -> None:
        self.settings = settings
        self.name = settings.service
        self.package = package
        self.source = f"/premiums/{self.name}"
        self.clock = BusinessClock(settings.clock_mode)
        self.consumers: list[EventConsumer] = []
        self.daily_jobs: list[tuple[str, DailyJob]] = []
        self.background: list[BackgroundTask] = []
        self.routers: list[APIRouter] = []
        self.scrape_hooks: list[Callable[[asyncpg.Pool], Awaitable[None]]] = []
        self.ready = False
        self._pool: asyncpg.Pool | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.app = FastAPI(
            title=f"premiums {self.name}",
            description=description,
            version="1.0.0",
            lifespan=self._lifespan,
            docs_url="/docs",
            openapi_url="/openapi.json",
            # Our own outermost middleware (http_metrics) makes the one server span and latency metric per
            # request; FastAPI's native telemetry would add a second span for every request.
            telemetry={"tracing": False, "metrics": False, "logs": False},
        )
        self.app.state.service = self
        self._title = title

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the database pool is not open yet")
        return self._pool

    def consume(self, consumer: EventConsumer) -> None:
        self.consumers.append(consumer)

    def daily(self, job: str, run: DailyJob) -> None:
        """Run `run` once per business date, in the transaction that records the date (ARCHITECTURE §4)."""
        self.daily_jobs.append((job, run))

    def include(self, router: APIRouter) -> None:
        self.routers.append(router)

    def run(self) -> None:
        configure_logging(self.name, self.settings.log_level)
        uvicorn.run(
            self.app,
            host=self.settings.http_host,
            port=self.settings.http_port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=25,
        )

    # -- lifecycle ---------------------------------------------------------------------------------

    @asynccontextmanager
    async def _lifespan(self, _: FastAPI) -> AsyncIterator[None]:
        configure_logging(self.name, self.settings.log_level)
        tracing = configure_tracing(self.name)
        started = time.monotonic()
        self._pool = await database.create_pool(self.settings.database_url)
        await database.migrate(self._pool, "premiums_common", self.package)
        await self.clock.load(self._pool)
        producer = make_producer(self.settings.kafka_bootstrap_servers, client_id=self.name)
        await producer.start()
        relay = OutboxRelay(self.settings.database_url, self._pool, producer)
        relay.start()
        broker = make_broker(self.settings.kafka_bootstrap_servers, client_id=self.name)
        for consumer in [self._clock_consumer(), *self.consumers]:
            consumer.bind(self._pool, producer, self.source)
            consumer.subscribe(broker)
        await broker.start()
        self._tasks = [asyncio.create_task(self._supervise(task)) for task in self.background]
        self._tasks.append(asyncio.create_task(self._supervise(lambda: self.clock.follow(self.pool))))
        self.ready = True
        gc_tuning.measure()
        gc_tuning.tune()
        log.info("service ready", extra={"seconds": round(time.monotonic() - started, 2)})
        try:
            yield
        finally:
            self.ready = False
            log.info("draining: stopping consumers, then the relay")
            await broker.stop()
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await relay.stop()
            await producer.stop()
            await self._pool.close()
            tracing.shutdown()
            log.info("stopped")

    async def _supervise(self, task: BackgroundTask) -> None:
        while True:
            try:
                await task()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background task failed; restarting in 1 s")
                await asyncio.sleep(1.0)

    def _clock_consumer(self) -> EventConsumer:
        async def on_date(con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
            event: BusinessDateAdvanced = incoming.event
            await record_business_date(con, event.business_date)
            self.clock.observe(event.business_date)
            for job, run in self.daily_jobs:
                if await claim_daily_run(con, job, event.business_date):
                    await run_daily(con, run, event.business_date)
            return []

        # Daily work must run day after day in order: a failing day blocks the clock for this service (and
        # says so in the logs) instead of being dead-lettered while later days run ahead of it.
        return EventConsumer(
            f"{self.name}.clock", [CLOCK_EVENTS.name], {BusinessDateAdvanced: on_date}, block_on_failure=True
        )

    # -- HTTP --------------------------------------------------------------------------------------

    def finish_http(self) -> FastAPI:
        """Mount the routes and the operational endpoints; call once the service has described itself."""
        app = self.app
        install_problem_handlers(app)
        for router in self.routers:
            app.include_router(router)
        guard = GuardSettings(
            secret=self.settings.jwt_secret,
            max_body_bytes=self.settings.max_body_bytes,
            member_per_minute=self.settings.rate_limit_member_per_minute,
            anonymous_per_minute=self.settings.rate_limit_anonymous_per_minute,
        )
        app.add_middleware(HttpGuard, settings=guard)  # inside `measure`: refusals are counted too

        app.add_middleware(MeasureRequests)  # outermost: one span and one latency figure per request

        @app.get("/healthz", include_in_schema=False)
        async def healthz() -> dict[str, str]:
            return {"status": "ok"}

        @app.get("/readyz", include_in_schema=False)
        async def readyz() -> JSONResponse:
            if not self.ready:
                return JSONResponse({"status": "starting"}, status_code=503)
            try:
                await self.pool.fetchval("SELECT 1")
            except Exception:
                return JSONResponse({"status": "database unavailable"}, status_code=503)
            return JSONResponse({"status": "ready", "business_date": self.clock.today().isoformat()})

        @app.get("/metrics", include_in_schema=False)
        async def metrics() -> Response:
            if self._pool is not None:
                count, age = await backlog(self._pool)
                OUTBOX_BACKLOG.set(count)
                OUTBOX_AGE.set(age)
                for hook in self.scrape_hooks:
                    await hook(self._pool)
            groups = {c.name: list(c.topics) for c in self.consumers} | {f"{self.name}.clock": [CLOCK_EVENTS.name]}
            with contextlib.suppress(Exception):  # a broker outage must not break the scrape
                for group, lag in (await consumer_lag(self.settings.kafka_bootstrap_servers, groups)).items():
                    CONSUMER_LAG.labels(group).set(lag)
            return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

        return app
