"""Reading a submitted channel settings form into typed values, and which fields could not be read."""

from __future__ import annotations

from bolletta.platform.admin.plugins import read_form
from bolletta.platform.dispatch.settings_form import FormField


def field(name: str, kind: str, *, secret: bool = False, choices: tuple[str, ...] = ()) -> FormField:
    return FormField(name=name, type=kind, required=False, default=None, secret=secret, choices=choices)


FIELDS = [
    field("host", "str"), field("port", "int"), field("timeout", "float"), field("tls", "bool"),
    field("security", "choice", choices=("none", "tls", "starttls")), field("numbers", "list"),
    field("password", "str", secret=True),
]


def test_values_are_converted_by_type() -> None:
    values, errors = read_form(FIELDS, {"host": " smtp.example ", "port": "587", "timeout": "2.5", "tls": "1",
                                        "security": "starttls", "numbers": "+390000000001, +390000000002\n+39003",
                                        "password": "segreto-di-prova"})

    assert errors == []
    assert values == {"host": "smtp.example", "port": 587, "timeout": 2.5, "tls": True, "security": "starttls",
                      "numbers": ["+390000000001", "+390000000002", "+39003"], "password": "segreto-di-prova"}


def test_empty_fields_are_left_out_and_unticked_box_is_false() -> None:
    values, errors = read_form(FIELDS, {"host": "", "port": "  ", "password": ""})

    assert errors == []
    assert values == {"tls": False}  # the stored secret and the plugin's defaults apply


def test_unreadable_fields_are_named() -> None:
    values, errors = read_form(FIELDS, {"port": "dieci", "timeout": "1,5", "security": "ssl", "host": "ok"})

    assert errors == ["port", "timeout", "security"]
    assert values == {"host": "ok", "tls": False}
