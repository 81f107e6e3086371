"""Labels of the plugin settings in the wizard and the console's plugin pages, as msgids, by setting name.

Plugins name their settings in English code (``host``, ``test_mode``). The same name means the same
thing across plugins, so one table covers them all. A name missing here is shown as it is.
"""

from __future__ import annotations

from bolletta.platform.i18n.dynamic_ids import N_

SETTING_LABELS: dict[str, str] = {
    "access_token": N_("Access token"),
    "account_sid": N_("Account SID"),
    "alias": N_("Merchant alias"),
    "api_base_url": N_("Address of the provider's API"),
    "api_key": N_("API key"),
    "api_version": N_("API version"),
    "app_secret": N_("App secret"),
    "auth_token": N_("Authentication token"),
    "body_parameters": N_("Bill field of each template parameter"),
    "ca_bundle": N_("Trusted certificates file (CA bundle)"),
    "ca_file": N_("Trusted certificates file (CA bundle)"),
    "callback_token": N_("Token of the delivery reports"),
    "cert_hosts": N_("Hosts allowed to serve the signing certificate"),
    "cert_name_suffix": N_("Name suffix of the signing certificate"),
    "client_id": N_("Client ID"),
    "client_secret": N_("Client secret"),
    "dkim_domain": N_("DKIM domain"),
    "dkim_private_key": N_("DKIM private key"),
    "dkim_selector": N_("DKIM selector"),
    "from_address": N_("Sender address"),
    "from_number": N_("Sender number"),
    "host": N_("Server host"),
    "key_id": N_("Key ID"),
    "mac_key": N_("MAC key"),
    "max_rate": N_("Maximum messages per second"),
    "merchant_id": N_("Merchant ID"),
    "message_type": N_("Message type"),
    "messaging_service_sid": N_("Messaging service SID"),
    "mode": N_("Integration mode"),
    "password": N_("Password"),
    "phone_number_id": N_("Phone number ID"),
    "port": N_("Port"),
    "private_key": N_("Private key"),
    "reply_to": N_("Reply-to address"),
    "security": N_("Connection security"),
    "sender": N_("Sender"),
    "shop_login": N_("Shop login"),
    "template_name": N_("Template name"),
    "test_mode": N_("Test mode (no real payments)"),
    "timeout_seconds": N_("Network timeout in seconds"),
    "trust_anchor": N_("Trusted root certificate"),
    "url_button_index": N_("Position of the URL button"),
    "user_key": N_("User key"),
    "username": N_("Username"),
    "validity_period_seconds": N_("Message validity in seconds"),
    "verification": N_("Notification check"),
    "verify_token": N_("Verification token"),
    "webhook_id": N_("Webhook ID"),
    "webhook_secret": N_("Webhook secret"),
}
"""English msgid of the label of each plugin setting, by the setting's name."""

CHOICE_LABELS: dict[str, str] = {
    "none": N_("None (plain connection)"),
    "starttls": N_("STARTTLS on the same port"),
    "tls": N_("TLS from the first byte"),
    "api": N_("API"),
    "classic": N_("Classic (payment page at the provider)"),
    "offline": N_("Checked here with the provider's certificate"),
    "postback": N_("Checked by asking the provider"),
}
"""English msgid of the option label of each choice value a plugin setting offers."""
