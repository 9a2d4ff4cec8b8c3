"""Every object the relay shares between handlers, each behind one typed key."""

from __future__ import annotations

import weakref

from aiohttp import web

from crypto.signatures import SigningKey
from server.auth import Authenticator
from server.config import RelayConfig
from server.hub import DeliveryHub
from server.limits import TokenBuckets
from server.storage.interface import DeviceRecord, RelayStorage
from server.translog import TransparencyLog

CONFIG = web.AppKey("config", RelayConfig)
IDENTITY = web.AppKey("identity", SigningKey)
STORAGE = web.AppKey("storage", RelayStorage)
AUTHENTICATOR = web.AppKey("authenticator", Authenticator)
TRANSLOG = web.AppKey("translog", TransparencyLog)
HUB = web.AppKey("hub", DeliveryHub)
DEVICE_RATES = web.AppKey("device_rates", TokenBuckets)
ADDRESS_RATES = web.AppKey("address_rates", TokenBuckets)
WEBSOCKETS = web.AppKey("websockets", weakref.WeakSet[web.WebSocketResponse])
IN_FLIGHT = web.AppKey("in_flight", list[int])  # one counter, mutable in place

DEVICE = web.RequestKey("device", DeviceRecord)  # the authenticated device of a request
