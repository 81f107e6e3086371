"""Axerve (Fabrick, formerly GestPay by Banca Sella): REST ``payment/create`` and the hosted page.

``POST payment/create/`` with ``Authorization: apikey <key>`` returns ``paymentToken``,
``paymentID`` and ``userRedirect.href`` (the hosted page). Every answer is wrapped in
``{"error": {"code", "description"}, "payload": {...}}``; code ``"0"`` means success.

Axerve's notification proves nothing by itself here: it only triggers
``GET payment/detail/{paymentID}``, whose ``transactionResult`` decides. The notification URL
carries our order id (``?order=<id>``) so the plugin knows which payment to ask about, and a
notification naming another shop in ``a`` is rejected. The customer's return is confirmed the same
way.

:meth:`AxerveGateway.check_credentials` calls ``POST check/email/``, which only checks the form of
an e-mail address, so it moves no money and creates no payment.

NOTE: passing ``responseURLs`` to ``payment/create`` (Axerve documents it on ``payment/submit``;
merchants otherwise set the URLs in the back office) and reading ``amount`` from the
``payment/detail`` payload are inferred, not confirmed in Axerve's manual.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar
from urllib.parse import urlencode

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
)
from bolletta.gateways.errors import GatewayUnavailable, NotificationRejected

CHECK_EMAIL = "verifica@example.com"
"""Address sent to ``check/email``, on a reserved domain so that it identifies no person."""

_RESULTS = {
    "APPROVED": "completed", "OK": "completed", "DECLINED": "failed", "KO": "failed",
    "PENDING": "pending", "XX": "pending", "WAITING": "pending", "UNSUBMITTED": "pending",
}


class AxerveSettings(GatewaySettings, kw_only=True, frozen=True):
    """Per-tenant settings of Axerve."""

    shop_login: str
    """The shop's login (``shopLogin``) from Axerve's merchant back office."""
    api_key: str
    """The merchant API key from Axerve's merchant back office."""


class AxerveGateway(Gateway):
    """Axerve hosted payment page, confirmed with ``payment/detail``."""

    id: ClassVar[str] = "axerve"
    name: ClassVar[str] = "Axerve"
    version: ClassVar[str] = "1.0.0"
    contract_version: ClassVar[int] = CONTRACT_VERSION
    Settings: ClassVar[type[GatewaySettings]] = AxerveSettings
    secret_fields: ClassVar[frozenset[str]] = frozenset({"api_key"})
    default_api_base_url: ClassVar[str] = "https://ecomms2s.sella.it/api/v1"
    test_api_base_url: ClassVar[str] = "https://sandbox.gestpay.net/api/v1"
    capabilities: ClassVar[GatewayCapabilities] = GatewayCapabilities(query_status=True)
    hosted_page_origins: ClassVar[tuple[str, ...]] = ("https://ecomm.sella.it", "https://sandbox.gestpay.net")

    settings: AxerveSettings

    @property
    def merchant_account(self) -> str | None:
        """The shop login."""
        return self.settings.shop_login

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"apikey {self.settings.api_key}", "Content-Type": "application/json"}

    def _payload(self, response: httpx.Response, call: str) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError as exc:
            raise GatewayUnavailable(f"axerve: {call} returned HTTP {response.status_code} without JSON") from exc
        error = data.get("error") if isinstance(data, dict) else None
        code = str(error.get("code")) if isinstance(error, dict) else "?"
        if response.status_code != 200 or code != "0" or not isinstance(data.get("payload"), dict):
            description = error.get("description", "") if isinstance(error, dict) else ""
            raise GatewayUnavailable(f"axerve: {call} failed with code {code} ({description})")
        payload: dict[str, Any] = data["payload"]
        return payload

    def check_credentials(self) -> str | None:
        """Call ``check/email``, which only checks the form of an address, with the shop login and API key.

        NOTE: Axerve's manual marks ``check/email`` as beta. Its other checks need card data and its
        payment calls need a payment, so no other documented REST call fits.
        """
        body = {"shopLogin": self.settings.shop_login, "email": CHECK_EMAIL}
        with self.http_client() as client:
            response = self.call(client, "POST", "/check/email/", json=body, headers=self._headers())
        try:
            data = response.json()
        except ValueError as exc:
            raise GatewayUnavailable(f"axerve: check/email returned HTTP {response.status_code} without JSON") from exc
        error = data.get("error") if isinstance(data, dict) else None
        if not isinstance(error, dict):
            raise GatewayUnavailable(
                f"axerve: check/email returned HTTP {response.status_code} without an error object")
        code = str(error.get("code", "?"))
        if response.status_code == 200 and code == "0":
            return None
        return f"axerve: HTTP {response.status_code} code {code} ({error.get('description', '')})"

    def prepare(self, request: PaymentRequest) -> PreparedPayment:
        """Create the payment and return Axerve's hosted page."""
        body = {
            "shopLogin": self.settings.shop_login, "amount": f"{request.amount:.2f}", "currency": request.currency,
            "shopTransactionID": request.order_id, "languageId": "1" if request.language == "it" else "2",
            "customInfo": {"description": request.description[:255]},
            "responseURLs": {
                "buyerOK": request.return_url, "buyerKO": request.cancel_url,
                "serverNotificationURL": f"{request.notify_url}?{urlencode({'order': request.order_id})}",
            },
        }
        with self.http_client() as client:
            response = self.call(client, "POST", "/payment/create/", json=body, headers=self._headers())
        payload = self._payload(response, "payment/create")
        user_redirect = payload.get("userRedirect")
        redirect = user_redirect.get("href") if isinstance(user_redirect, dict) else None
        if not redirect or not payload.get("paymentID"):
            raise GatewayUnavailable("axerve: payment/create returned no paymentID or userRedirect.href")
        return PreparedPayment(redirect_url=str(redirect), provider_reference=str(payload["paymentID"]),
                               provider_data={"paymentToken": str(payload.get("paymentToken", ""))})

    def verify_notification(self, incoming: IncomingNotification, attempts: AttemptLookup) -> Notification:
        """Check the shop, then confirm with ``payment/detail``; the notification's own fields are not trusted."""
        shop = incoming.query.get("a")
        if shop is not None and shop != self.settings.shop_login:
            raise NotificationRejected(f"axerve notification names shop {shop!r}, not this tenant's")
        order_id = incoming.query.get("order", "")
        attempt = attempts.by_order_id(order_id) if order_id else None
        if attempt is None or not attempt.provider_reference:
            raise NotificationRejected("axerve notification names no known order")
        notification = self.query_status(attempt)
        if notification is None:
            raise GatewayUnavailable("axerve: payment/detail gave no result")
        return notification

    def query_status(self, attempt: PaymentAttempt) -> Notification | None:
        """Read ``payment/detail/{paymentID}`` and map ``transactionResult``."""
        if not attempt.provider_reference:
            return None
        with self.http_client() as client:
            response = self.call(client, "GET", f"/payment/detail/{attempt.provider_reference}",
                                 headers=self._headers())
        payload = self._payload(response, "payment/detail")
        result = str(payload.get("transactionResult", ""))
        if str(payload.get("shopTransactionID", "")) != attempt.order_id:
            raise NotificationRejected("axerve: payment/detail is about another shopTransactionID")
        try:
            amount = Decimal(str(payload.get("amount", "")))
        except InvalidOperation as exc:
            raise NotificationRejected("axerve: payment/detail has no valid amount") from exc
        transaction = str(payload.get("bankTransactionID") or "") or None
        return Notification(
            order_id=attempt.order_id, status=_RESULTS.get(result, "pending"), amount=amount,
            currency=str(payload.get("currency", "")), provider_reference=attempt.provider_reference,
            transaction_id=transaction, detail=f"transactionResult={result}",
            event_id=f"detail:{attempt.provider_reference}:{result}",
        )
