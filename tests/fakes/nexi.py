"""Fake Nexi XPay: the classic DispatcherServlet with SHA-1 MACs, ``situazioneOrdine`` and
``profileInfo``, and the JSON API (``/orders/hpp``, ``GET /orders/{orderId}``, ``GET
/payment_methods``) with ``securityToken`` notifications."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode

from bolletta.gateways.nexi import DISPATCHER_PATH, PAYMENT_METHODS_PATH, PROFILE_INFO_PATH, STATUS_PATH, mac
from tests.fakes.payment_provider import FakeOrder, FakeProvider, SentNotification
from tests.fakes.tls import FakeRequest, FakeResponse, TestCA

API_PREFIX = "/api/phoenix-0.0/psp/api/v1"


def _json(status: int, value: object) -> FakeResponse:
    return FakeResponse(status, json.dumps(value).encode(), {"Content-Type": "application/json"})


class FakeNexi(FakeProvider):
    """Nexi XPay for one merchant: ``alias`` with ``mac_key`` (classic) and ``api_key`` (JSON API)."""

    def __init__(self, ca: TestCA, *, alias: str, mac_key: str, api_key: str) -> None:
        super().__init__(ca)
        self.alias = alias
        self.mac_key = mac_key
        self.api_key = api_key

    @property
    def api_base_url(self) -> str:
        return self.base_url + API_PREFIX

    def handle(self, request: FakeRequest) -> FakeResponse:
        if request.path == DISPATCHER_PATH and request.method == "POST":
            return self._dispatcher(request)
        if request.path == STATUS_PATH:
            return self._order_status(request)
        if request.path == PROFILE_INFO_PATH and request.method == "POST":
            return self._profile_info(request)
        if request.path.startswith(API_PREFIX):
            if request.header("X-API-KEY") != self.api_key:
                return _json(401, {"errors": [{"code": "GW0001", "description": "Invalid API key"}]})
            if not request.header("Correlation-Id"):
                return _json(400, {"errors": [{"code": "GW0002", "description": "Correlation-Id missing"}]})
            path = request.path.removeprefix(API_PREFIX)
            if path == "/orders/hpp" and request.method == "POST":
                return self._create_hpp(request)
            if path.startswith("/orders/") and request.method == "GET":
                return self._api_order(path.removeprefix("/orders/"))
            if path == PAYMENT_METHODS_PATH and request.method == "GET":
                return _json(200, {"paymentMethods": [
                    {"paymentMethod": "CARDS", "circuit": "VISA"}, {"paymentMethod": "CARDS", "circuit": "MC"},
                ]})
        return FakeResponse(404, b"not found")

    # -- classic -------------------------------------------------------------------------------

    def _dispatcher(self, request: FakeRequest) -> FakeResponse:
        form = dict(parse_qsl(request.body.decode()))
        required = ("alias", "importo", "divisa", "codTrans", "url", "url_back", "mac")
        if any(name not in form for name in required) or form["alias"] != self.alias:
            return FakeResponse(400, b"missing fields or unknown alias")
        expected = mac(("codTrans", form["codTrans"]), ("divisa", form["divisa"]), ("importo", form["importo"]),
                       key=self.mac_key)
        if form["mac"] != expected:
            return FakeResponse(400, b"MAC errato")
        order = FakeOrder(
            key=form["codTrans"], merchant_order_id=form["codTrans"], amount=Decimal(form["importo"]) / 100,
            currency=form["divisa"], return_url=form["url"], cancel_url=form["url_back"],
            notify_url=form.get("urlpost", ""), data={"mode": "classic"},
        )
        self.orders[order.key] = order
        return FakeResponse(303, b"", {"Location": self.hosted_url(order.key)})

    def classic_params(self, order: FakeOrder, esito: str) -> dict[str, str]:
        """The result parameters Nexi sends for ``order``, MAC included."""
        now = datetime.now(UTC)
        params = {
            "codTrans": order.merchant_order_id, "esito": esito,
            "importo": str(int(self.reported_amount(order) * 100)), "divisa": self.reported_currency(order),
            "data": now.strftime("%Y%m%d"), "orario": now.strftime("%H%M%S"),
            "codAut": secrets.token_hex(3).upper() if esito == "OK" else "",
            "alias": self.alias, "messaggio": "Message OK" if esito == "OK" else "Autorizzazione negata",
        }
        key = "wrong-key" if self.misbehaviour.forge else self.mac_key
        params["mac"] = mac(*((name, params[name]) for name in
                              ("codTrans", "esito", "importo", "divisa", "data", "orario", "codAut")), key=key)
        return params

    def _order_status(self, request: FakeRequest) -> FakeResponse:
        body = json.loads(request.body or b"{}")
        expected = mac(("apiKey", str(body.get("apiKey"))), ("codiceTransazione", str(body.get("codiceTransazione"))),
                       ("timeStamp", str(body.get("timeStamp"))), key=self.mac_key)
        operation = secrets.token_hex(6)
        stamp = str(body.get("timeStamp"))
        if body.get("apiKey") != self.alias or body.get("mac") != expected:
            answer: dict[str, object] = {"esito": "KO", "idOperazione": operation, "timeStamp": stamp,
                                         "errore": {"codice": 3, "messaggio": "MAC errato"}}
        else:
            order = self.orders.get(str(body.get("codiceTransazione")))
            stato = {"paid": "Autorizzato", "declined": "Negato", "cancelled": "Annullato"}.get(
                order.status if order else "", "In attesa")
            report = [] if order is None else [{
                "codiceTransazione": order.merchant_order_id, "importo": int(self.reported_amount(order) * 100),
                "divisa": self.reported_currency(order), "stato": stato,
                "codiceAutorizzazione": str(order.data.get("codAut", "")),
            }]
            answer = {"esito": "OK", "idOperazione": operation, "timeStamp": stamp, "report": report}
        answer["mac"] = mac(("esito", str(answer["esito"])), ("idOperazione", operation), ("timeStamp", stamp),
                            key=self.mac_key)
        return _json(200, answer)

    def _profile_info(self, request: FakeRequest) -> FakeResponse:
        """Return ``profileInfo``'s payment methods when alias and MAC match, else ``esito`` ``KO``.

        With ``forge`` the response MAC uses a key that is not the merchant's."""
        body = json.loads(request.body or b"{}")
        stamp = str(body.get("timeStamp"))
        expected = mac(("apiKey", str(body.get("apiKey"))), ("timeStamp", stamp), key=self.mac_key)
        operation = secrets.token_hex(6)
        if body.get("apiKey") != self.alias or body.get("mac") != expected:
            answer: dict[str, object] = {"esito": "KO", "idOperazione": operation, "timeStamp": stamp,
                                         "errore": {"codice": 3, "messaggio": "MAC errato"}}
        else:
            answer = {"esito": "OK", "idOperazione": operation, "timeStamp": stamp,
                      "availableMethods": [{"code": "CC", "description": "Carta di credito", "type": "CC"}]}
        key = "wrong-key" if self.misbehaviour.forge else self.mac_key
        answer["mac"] = mac(("esito", str(answer["esito"])), ("idOperazione", operation), ("timeStamp", stamp),
                            key=key)
        return _json(200, answer)

    # -- JSON API ------------------------------------------------------------------------------

    def _create_hpp(self, request: FakeRequest) -> FakeResponse:
        body = json.loads(request.body)
        order_data, session = body["order"], body["paymentSession"]
        if session.get("actionType") != "PAY" or order_data["amount"] != session["amount"]:
            return _json(400, {"errors": [{"code": "GW0003", "description": "invalid amount or actionType"}]})
        order = FakeOrder(
            key=order_data["orderId"], merchant_order_id=order_data["orderId"],
            amount=Decimal(order_data["amount"]) / 100, currency=order_data["currency"],
            return_url=session["resultUrl"], cancel_url=session["cancelUrl"],
            notify_url=session.get("notificationUrl", ""),
            data={"mode": "api", "securityToken": secrets.token_hex(16), "operations": []},
        )
        self.orders[order.key] = order
        return _json(200, {"hostedPage": self.hosted_url(order.key), "securityToken": order.data["securityToken"]})

    def api_operation(self, order: FakeOrder, result: str) -> dict[str, object]:
        return {
            "orderId": order.merchant_order_id, "operationId": secrets.token_hex(8),
            "channel": "ECOMMERCE", "channelDetail": "HOSTED_PAYMENT_PAGE", "operationType": "AUTHORIZATION",
            "operationResult": result, "operationTime": datetime.now(UTC).isoformat(),
            "operationAmount": str(int(self.reported_amount(order) * 100)),
            "operationCurrency": self.reported_currency(order), "paymentMethod": "CARD", "paymentCircuit": "VISA",
            "additionalData": {"authorizationCode": "A1B2C3"},
        }

    def _api_order(self, order_id: str) -> FakeResponse:
        order = self.orders.get(order_id)
        if order is None:
            return _json(404, {"errors": [{"code": "GW0404", "description": "order not found"}]})
        return _json(200, {"order": {"orderId": order.merchant_order_id, "amount": str(int(order.amount * 100)),
                                     "currency": order.currency}, "operations": order.data["operations"]})

    # -- outcome -------------------------------------------------------------------------------

    def settle(self, order: FakeOrder) -> str:
        if order.data["mode"] == "classic":
            return self._settle_classic(order)
        return self._settle_api(order)

    def _settle_classic(self, order: FakeOrder) -> str:
        esito = {"paid": "OK", "declined": "KO"}.get(order.status, "ANNULLO")
        params = self.classic_params(order, esito)
        order.data["codAut"] = params["codAut"]
        notifications = [self._classic_post(order, params)]
        if self.misbehaviour.out_of_order:
            notifications.append(self._classic_post(order, self.classic_params(order, "PEN")))
        if order.notify_url:
            self.deliver(notifications)
        if order.status == "cancelled":
            return f"{order.cancel_url}?{urlencode({'codTrans': order.merchant_order_id, 'esito': 'ANNULLO'})}"
        return f"{order.return_url}?{urlencode(params)}"

    def _classic_post(self, order: FakeOrder, params: dict[str, str]) -> SentNotification:
        return SentNotification("POST", order.notify_url, {"Content-Type": "application/x-www-form-urlencoded"},
                                urlencode(params).encode())

    def _settle_api(self, order: FakeOrder) -> str:
        result = {"paid": "AUTHORIZED", "declined": "DECLINED"}.get(order.status, "CANCELED")
        operation = self.api_operation(order, result)
        order.data["operations"].append(operation)  # type: ignore[union-attr]
        notifications = [self._api_post(order, operation)]
        if self.misbehaviour.out_of_order:
            notifications.append(self._api_post(order, self.api_operation(order, "PENDING")))
        if order.notify_url:
            self.deliver(notifications)
        target = order.return_url if order.status != "cancelled" else order.cancel_url
        return f"{target}?paymentId={operation['operationId']}"

    def _api_post(self, order: FakeOrder, operation: dict[str, object]) -> SentNotification:
        token = "forged-token" if self.misbehaviour.forge else str(order.data["securityToken"])
        body = {"eventId": secrets.token_hex(8), "eventTime": datetime.now(UTC).isoformat(),
                "securityToken": token, "operation": operation}
        return SentNotification("POST", order.notify_url, {"Content-Type": "application/json"},
                                json.dumps(body).encode())
