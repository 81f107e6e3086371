"""Nexi XPay: the classic hosted page (form post with SHA-1 MAC) or the JSON API (``/orders/hpp``).

The tenant's ``mode`` picks the flow its Nexi contract provides:

- ``classic`` ("codice base"): the browser posts ``alias``, ``importo`` (cents), ``divisa``,
  ``codTrans``, ``url``, ``url_back``, ``urlpost`` and ``mac`` to ``/ecomm/ecomm/DispatcherServlet``.
  The request MAC is the hex SHA-1 of ``codTrans=<v>divisa=<v>importo=<v><secret key>``. Nexi posts
  the outcome to ``urlpost`` with a MAC over ``codTrans esito importo divisa data orario codAut``
  (same ``name=value`` form, secret appended). The status query is the back-office call
  ``ecomm/api/bo/situazioneOrdine``.
- ``api`` (XPay Web JSON API): ``POST /orders/hpp`` with ``X-API-KEY`` and ``Correlation-Id``
  returns ``hostedPage`` and ``securityToken``; a notification is authentic when it carries the same
  ``securityToken``; ``GET /orders/{orderId}`` is the status query.

:meth:`NexiGateway.check_credentials` asks for the terminal's active payment methods, which reads
and changes nothing: ``ecomm/api/profileInfo`` (classic, MAC over ``apiKey`` and ``timeStamp``) or
``GET /payment_methods`` (JSON API).

Field names and MAC constructions follow Nexi's published samples. NOTE: the fields of the
``situazioneOrdine`` answer (``report[].stato`` and its values) and the full ``operationResult``
list were not confirmed in Nexi's manual; they are mapped in ``_CLASSIC_STATES`` and
``_API_RESULTS`` so they are easy to adjust.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qsl

import httpx

from bolletta.gateways.base import (
    CONTRACT_VERSION,
    AttemptLookup,
    Gateway,
    GatewayCapabilities,
    GatewaySettings,
    IncomingNotification,
    Notification,
    PaymentAttempt,
    PaymentRequest,
    PreparedPayment,
    cents,
    from_cents,
)
from bolletta.gateways.errors import GatewayConfigError, GatewayUnavailable, NotificationRejected

CLASSIC_BASE_URL = "https://ecommerce.nexi.it"
CLASSIC_TEST_BASE_URL = "https://int-ecommerce.nexi.it"
API_BASE_URL = "https://xpay.nexigroup.com/api/phoenix-0.0/psp/api/v1"
API_TEST_BASE_URL = "https://xpaysandbox.nexigroup.com/api/phoenix-0.0/psp/api/v1"
DISPATCHER_PATH = "/ecomm/ecomm/DispatcherServlet"
STATUS_PATH = "/ecomm/api/bo/situazioneOrdine"
PROFILE_INFO_PATH = "/ecomm/api/profileInfo"
PAYMENT_METHODS_PATH = "/payment_methods"
DESCRIPTION_LIMIT = 2000

_ESITO = {"OK": "completed", "KO": "failed", "ERRORE": "failed", "ANNULLO": "cancelled", "PEN": "pending"}
_CLASSIC_STATES = {
    "Autorizzato": "completed", "Contabilizzato": "completed", "Negato": "failed",
    "Annullato": "cancelled", "Rimborsato": "completed", "In attesa": "pending",
}
_API_RESULTS = {
    "AUTHORIZED": "completed", "EXECUTED": "completed", "DECLINED": "failed", "DENIED_BY_RISK": "failed",
    "THREEDS_FAILED": "failed", "FAILED": "failed", "CANCELED": "cancelled", "VOIDED": "cancelled",
    "PENDING": "pending", "THREEDS_VALIDATED": "pending",
}
_NOTIFY_FIELDS = ("codTrans", "esito", "importo", "divisa", "data", "orario", "codAut")


class NexiSettings(GatewaySettings, kw_only=True, frozen=True):
    """Per-tenant settings of Nexi XPay."""

    mode: Literal["classic", "api"] = "classic"
    """``classic`` (alias and MAC key) or ``api`` (API key of XPay Web)."""
    alias: str = ""
    """Merchant alias (classic); also the ``apiKey`` of back-office calls."""
    mac_key: str = ""
    """Secret MAC key ("chiave segreta") of the classic flow."""
    api_key: str = ""
    """API key of the JSON API."""


def mac(*pairs: tuple[str, str], key: str) -> str:
    """Return Nexi's MAC: hex SHA-1 of ``name=value`` pairs concatenated, then the secret key."""
    text = "".join(f"{name}={value}" for name, value in pairs) + key
    return hashlib.sha1(text.encode()).hexdigest()  # noqa: S324 (Nexi defines its MAC as SHA-1)


class NexiGateway(Gateway):
    """Nexi XPay hosted payment page, classic or JSON API."""

    id: ClassVar[str] = "nexi"
    name: ClassVar[str] = "Nexi XPay"
    version: ClassVar[str] = "1.0.0"
    contract_version: ClassVar[int] = CONTRACT_VERSION
    Settings: ClassVar[type[GatewaySettings]] = NexiSettings
    secret_fields: ClassVar[frozenset[str]] = frozenset({"mac_key", "api_key"})
    capabilities: ClassVar[GatewayCapabilities] = GatewayCapabilities(query_status=True)
    hosted_page_origins: ClassVar[tuple[str, ...]] = (
        "https://ecommerce.nexi.it", "https://int-ecommerce.nexi.it", "https://xpay.nexigroup.com",
        "https://xpaysandbox.nexigroup.com",
    )

    settings: NexiSettings

    def __init__(self, settings: GatewaySettings, context: Any) -> None:
        super().__init__(settings, context)
        if self.settings.mode == "classic" and not (self.settings.alias and self.settings.mac_key):
            raise GatewayConfigError("nexi classic mode needs alias and mac_key; set both in the gateway settings")
        if self.settings.mode == "api" and not self.settings.api_key:
            raise GatewayConfigError("nexi api mode needs api_key; set it in the gateway settings")

    @property
    def api_base_url(self) -> str:
        """The configured base URL, else Nexi's test or production host for the mode."""
        if self.settings.api_base_url:
            return self.settings.api_base_url.rstrip("/")
        if self.settings.mode == "classic":
            return CLASSIC_TEST_BASE_URL if self.settings.test_mode else CLASSIC_BASE_URL
        return API_TEST_BASE_URL if self.settings.test_mode else API_BASE_URL

    @property
    def merchant_account(self) -> str | None:
        """The alias, which classic notifications repeat."""
        return self.settings.alias or None

    def prepare(self, request: PaymentRequest) -> PreparedPayment:
        """Build the classic form, or create the JSON API's hosted page."""
        if request.currency != "EUR":
            raise GatewayConfigError(f"Nexi XPay takes EUR only, not {request.currency}")
        if self.settings.mode == "classic":
            return self._prepare_classic(request)
        return self._prepare_api(request)

    def _prepare_classic(self, request: PaymentRequest) -> PreparedPayment:
        amount = str(cents(request.amount))
        fields = {
            "alias": self.settings.alias, "importo": amount, "divisa": "EUR", "codTrans": request.order_id,
            "url": request.return_url, "url_back": request.cancel_url, "urlpost": request.notify_url,
            "descrizione": request.description[:DESCRIPTION_LIMIT],
            "languageId": "ITA" if request.language == "it" else "ENG",
            "mac": mac(("codTrans", request.order_id), ("divisa", "EUR"), ("importo", amount),
                       key=self.settings.mac_key),
        }
        return PreparedPayment(redirect_url=self.api_base_url + DISPATCHER_PATH, form_fields=fields,
                               provider_reference=request.order_id)

    def _prepare_api(self, request: PaymentRequest) -> PreparedPayment:
        amount = str(cents(request.amount))
        body = {
            "order": {"orderId": request.order_id, "amount": amount, "currency": request.currency,
                      "description": request.description[:255]},
            "paymentSession": {
                "actionType": "PAY", "amount": amount, "language": "ita" if request.language == "it" else "eng",
                "resultUrl": request.return_url, "cancelUrl": request.cancel_url,
                "notificationUrl": request.notify_url, "captureType": "IMPLICIT",
            },
        }
        with self.http_client() as client:
            response = self.call(client, "POST", "/orders/hpp", json=body, headers=self._api_headers())
        data = _json(response.content)
        if response.status_code != 200 or "hostedPage" not in data or "securityToken" not in data:
            raise GatewayUnavailable(f"nexi: /orders/hpp returned HTTP {response.status_code} without a hosted page")
        return PreparedPayment(redirect_url=str(data["hostedPage"]), provider_reference=request.order_id,
                               provider_data={"securityToken": str(data["securityToken"])})

    def _api_headers(self) -> dict[str, str]:
        return {"X-API-KEY": self.settings.api_key, "Correlation-Id": str(uuid.uuid4())}

    # -- credentials -----------------------------------------------------------------------------

    def check_credentials(self) -> str | None:
        """Request the terminal's active payment methods, which reads and changes nothing.

        A rejection returns Nexi's code and message: ``errore.codice`` of the classic back-office
        response, or the first entry of ``errors`` of the JSON API.
        """
        if self.settings.mode == "classic":
            return self._check_classic()
        with self.http_client() as client:
            response = self.call(client, "GET", PAYMENT_METHODS_PATH, headers=self._api_headers())
        if response.status_code == 200:
            return None
        errors = _reply(response, PAYMENT_METHODS_PATH).get("errors")
        first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
        detail = f" {first.get('code', '')} ({first.get('description', '')})" if first else ""
        return f"nexi: HTTP {response.status_code}{detail}"

    def _check_classic(self) -> str | None:
        timestamp = str(int(datetime.now(UTC).timestamp() * 1000))
        body = {
            "apiKey": self.settings.alias, "timeStamp": timestamp,
            "mac": mac(("apiKey", self.settings.alias), ("timeStamp", timestamp), key=self.settings.mac_key),
            # Nexi uses the platform fields only for statistics, and "0" stands for "no CMS".
            "platform": "custom", "platformVers": "0", "pluginVers": "0",
        }
        with self.http_client() as client:
            response = self.call(client, "POST", PROFILE_INFO_PATH, json=body)
        data = _reply(response, PROFILE_INFO_PATH)
        if response.status_code != 200:
            return f"nexi: HTTP {response.status_code}"
        if data.get("esito") != "OK":
            error = data.get("errore")
            if not isinstance(error, dict):
                error = {}
            return (f"nexi: esito {data.get('esito', '?')} codice {error.get('codice', '?')} "
                    f"({error.get('messaggio', '')})")
        expected = mac(("esito", "OK"), ("idOperazione", str(data.get("idOperazione", ""))),
                       ("timeStamp", str(data.get("timeStamp", ""))), key=self.settings.mac_key)
        if not hmac.compare_digest(expected, str(data.get("mac", ""))):
            raise GatewayUnavailable("nexi: the profileInfo response MAC does not match the MAC key, so the "
                                     "response was ignored")
        return None

    # -- notifications ---------------------------------------------------------------------------

    def verify_notification(self, incoming: IncomingNotification, attempts: AttemptLookup) -> Notification:
        """Check the classic MAC or the JSON API's ``securityToken`` and return the outcome."""
        if self.settings.mode == "classic":
            return self._verify_classic(incoming)
        return self._verify_api(incoming, attempts)

    def _verify_classic(self, incoming: IncomingNotification) -> Notification:
        params = {**incoming.query, **dict(parse_qsl(incoming.body.decode("utf-8", "replace")))}
        missing = [name for name in (*_NOTIFY_FIELDS[:6], "mac") if name not in params]
        if missing:
            raise NotificationRejected(f"nexi notification lacks {', '.join(missing)}")
        expected = mac(*((name, params.get(name, "")) for name in _NOTIFY_FIELDS), key=self.settings.mac_key)
        if not hmac.compare_digest(expected, params["mac"].lower()):
            raise NotificationRejected("nexi notification MAC does not match the merchant's key")
        if "alias" in params and params["alias"] != self.settings.alias:
            raise NotificationRejected(f"nexi notification names alias {params['alias']!r}, not this tenant's")
        esito = params["esito"]
        if esito not in _ESITO or not params["importo"].isdigit():
            raise NotificationRejected(f"nexi notification has esito {esito!r} or a malformed importo")
        return Notification(
            order_id=params["codTrans"], status=_ESITO[esito], amount=from_cents(params["importo"]),
            currency=params["divisa"], merchant=params.get("alias"), provider_reference=params["codTrans"],
            transaction_id=params.get("codAut") or None, detail=f"esito={esito}",
            event_id="|".join(params.get(name, "") for name in _NOTIFY_FIELDS),
        )

    def _verify_api(self, incoming: IncomingNotification, attempts: AttemptLookup) -> Notification:
        data = _json(incoming.body)
        operation = data.get("operation")
        token = data.get("securityToken")
        if not isinstance(operation, dict) or not isinstance(token, str):
            raise NotificationRejected("nexi notification has no operation or securityToken")
        order_id = str(operation.get("orderId", ""))
        attempt = attempts.by_order_id(order_id)
        expected = attempt.provider_data.get("securityToken", "") if attempt else ""
        if not expected or not hmac.compare_digest(expected, token):
            raise NotificationRejected("nexi notification securityToken does not match the order's")
        return _api_notification(order_id, operation, event_id=str(data.get("eventId") or "") or None)

    # -- server-side status ----------------------------------------------------------------------

    def query_status(self, attempt: PaymentAttempt) -> Notification | None:
        """Ask ``situazioneOrdine`` (classic) or ``GET /orders/{orderId}`` (API) for the outcome."""
        if self.settings.mode == "classic":
            return self._query_classic(attempt)
        with self.http_client() as client:
            response = self.call(client, "GET", f"/orders/{attempt.order_id}", headers=self._api_headers())
        if response.status_code == 404:
            return None
        data = _json(response.content)
        operations = [item for item in data.get("operations", []) if isinstance(item, dict)]
        if response.status_code != 200 or not operations:
            return None
        latest = max(operations, key=lambda item: str(item.get("operationTime", "")))
        return _api_notification(attempt.order_id, latest, event_id=None)

    def _query_classic(self, attempt: PaymentAttempt) -> Notification | None:
        timestamp = str(int(datetime.now(UTC).timestamp() * 1000))
        body = {
            "apiKey": self.settings.alias, "codiceTransazione": attempt.order_id, "timeStamp": timestamp,
            "mac": mac(("apiKey", self.settings.alias), ("codiceTransazione", attempt.order_id),
                       ("timeStamp", timestamp), key=self.settings.mac_key),
        }
        with self.http_client() as client:
            response = self.call(client, "POST", STATUS_PATH, json=body)
        data = _json(response.content)
        expected = mac(("esito", str(data.get("esito", ""))), ("idOperazione", str(data.get("idOperazione", ""))),
                       ("timeStamp", str(data.get("timeStamp", ""))), key=self.settings.mac_key)
        if not hmac.compare_digest(expected, str(data.get("mac", ""))):
            raise GatewayUnavailable("nexi: the situazioneOrdine response MAC does not match; response ignored")
        if data.get("esito") != "OK":
            return None
        reports = [item for item in data.get("report", []) if isinstance(item, dict)]
        match = next((item for item in reports if item.get("codiceTransazione") == attempt.order_id), None)
        if match is None or str(match.get("stato")) not in _CLASSIC_STATES:
            return None
        return Notification(
            order_id=attempt.order_id, status=_CLASSIC_STATES[str(match["stato"])],
            amount=from_cents(str(match.get("importo", "0"))), currency=str(match.get("divisa", "")),
            provider_reference=attempt.order_id, transaction_id=str(match.get("codiceAutorizzazione") or "") or None,
            detail=f"stato={match['stato']}",
        )


def _api_notification(order_id: str, operation: Mapping[str, Any], *, event_id: str | None) -> Notification:
    result = str(operation.get("operationResult", ""))
    amount = str(operation.get("operationAmount", ""))
    if not amount.isdigit():
        raise NotificationRejected(f"nexi operation has a malformed operationAmount {amount!r}")
    return Notification(
        order_id=order_id, status=_API_RESULTS.get(result, "pending"), amount=from_cents(amount),
        currency=str(operation.get("operationCurrency", "")), provider_reference=order_id,
        transaction_id=str(operation.get("operationId") or "") or None, event_id=event_id,
        detail=f"operationResult={result}",
    )


def _reply(response: httpx.Response, path: str) -> dict[str, Any]:
    """Return the JSON object of a back-office or API response, or an empty one for an empty body.

    Raises:
        GatewayUnavailable: the body is not a JSON object (a proxy's error page, for example).
    """
    try:
        value = json.loads(response.content or b"{}")
    except ValueError as exc:
        raise GatewayUnavailable(f"nexi: {path} returned HTTP {response.status_code} without JSON") from exc
    if not isinstance(value, dict):
        raise GatewayUnavailable(f"nexi: {path} returned HTTP {response.status_code} without a JSON object")
    return value


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError as exc:
        raise NotificationRejected("nexi: body is not JSON") from exc
    if not isinstance(value, dict):
        raise NotificationRejected("nexi: body is not a JSON object")
    return value


