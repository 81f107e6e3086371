"""E-mail HTML to customers: hostile tenant markup is cleaned when sent, and the product's e-mail is not changed."""

from __future__ import annotations

from datetime import UTC, datetime
from html import unescape

import pytest

from bolletta.platform.dispatch import rendering
from bolletta.platform.dispatch.rendering import render_message
from bolletta.tenants.config import MessageTexts, TenantConfig
from bolletta.themes.email_html import clean_email_html, clean_style, find_removal
from tests.unit.dispatch.test_message_language import bill, config

LINK = "https://b.example/t/AbCdEfGhIjKlMnOpQrStUv"
EXPIRES = datetime(2027, 1, 15, 12, tzinfo=UTC)
CUSTOMER = "Rossi & D'Amico <S.r.l.>"
"""A name the autoescape writes as character references (``&amp;``, ``&#39;``, ``&lt;``)."""

HOSTILE = [
    ("<script>alert(1)</script>", "<script"),
    ("<img src=\"cid:header-image@bolletta\" onerror=\"alert(1)\">", "onerror"),
    ("<a href=\"javascript:alert(1)\">Paga</a>", "javascript"),
    ("<a href=\"JaVaScRiPt&#58;alert(1)\">Paga</a>", "alert"),
    ("<a href=\" java&#9;script:alert(1)\">Paga</a>", "script:"),
    ("<iframe src=\"https://evil.example/\"></iframe>", "evil.example"),
    ("<form action=\"https://evil.example/\"><input name=\"pin\"><button>Invia</button></form>", "evil.example"),
    ("<p style=\"width:expression(alert(1))\">x</p>", "expression"),
    ("<p style=\"background:url(javascript:alert(1))\">x</p>", "url("),
    ("<p style=\"background-image:url(https://track.example/p.gif)\">x</p>", "track.example"),
    ("<p style=\"background:image-set('https://track.example/p.gif' 1x)\">x</p>", "track.example"),
    ("<p style=\"color:\\72 ed\">x</p>", "\\72"),
    ("<svg onload=\"alert(1)\"><script>alert(1)</script></svg>", "alert"),
    ("<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>", "data:"),
    ("<img src=\"https://track.example/pixel.gif\" width=\"1\" height=\"1\">", "track.example"),
    ("<img src=\"data:image/png;base64,iVBORw0KGgo=\">", "data:"),
    ("<table background=\"https://track.example/bg.png\"><tr><td>x</td></tr></table>", "track.example"),
    ("<base href=\"https://evil.example/\">", "evil.example"),
    ("<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example/\">", "evil.example"),
    ("<link rel=\"stylesheet\" href=\"https://track.example/c.css\">", "track.example"),
    ("<style>@import url(https://track.example/c.css);</style>", "track.example"),
    ("<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>", "onerror"),
    ("<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>", "javascript"),
    ("{{ ('<scr' + 'ipt>alert(1)</scr' + 'ipt>') | safe }}", "<script"),
]
"""A hostile piece of tenant HTML and a text that must not reach the customer once it is cleaned."""


def _email(html: str, **changes: object) -> rendering.RenderedMessage:
    texts = MessageTexts(email_subject="La tua bolletta", email_text="Apri {{ link }}", email_html=html)
    return render_message("email", bill=bill(**changes), config=config(it=texts), utility="ACME", link=LINK,
                          expires_at=EXPIRES, is_test=False)


@pytest.mark.parametrize(("hostile", "forbidden"), HOSTILE)
def test_hostile_tenant_html_cleaned_when_sent(hostile: str, forbidden: str) -> None:
    rendered = _email(f'<p>Gentile {{{{ customer_name }}}}, <a href="{{{{ link }}}}">apri la bolletta</a>.</p>'
                      f"{hostile}<p>Grazie</p>")

    assert rendered.html is not None
    assert forbidden not in rendered.html
    assert f'<a href="{LINK}" rel="noopener noreferrer">apri la bolletta</a>' in rendered.html
    assert "Gentile Jane &lt;Doe&gt;" in rendered.html
    assert rendered.html.endswith("<p>Grazie</p>")


def test_tenant_document_keeps_its_frame_without_head_markup() -> None:
    rendered = _email(
        '<!doctype html><html lang="en" onload="x()"><head><title>{{ subject }}</title>'
        '<style>p{background:url(https://track.example/p.gif)}</style>'
        '<meta name="viewport" content="width=device-width"></head>'
        '<body style="margin:0;background:url(https://track.example/b.gif)"><p>{{ link }}</p></body></html>')

    assert rendered.html == (
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>La tua bolletta</title></head>\n'
        f'<body style="margin:0"><p>{LINK}</p></body>\n</html>')


def _product_fields(tenant: TenantConfig, is_test: bool) -> dict[str, object]:
    fields = rendering._fields("email", bill(customer_name=CUSTOMER), tenant, "ACME", LINK,
                               EXPIRES, is_test, "it")
    return fields | {"subject": rendering._environment().get_template("email_subject.txt").render(fields).strip()}


@pytest.mark.parametrize("is_test", [False, True])
@pytest.mark.parametrize("header_key", ["", "assets/email-header-0123456789abcdef"])
def test_product_email_sent_as_its_template_renders(is_test: bool, header_key: str) -> None:
    """Cleaning keeps every tag, attribute and character; only character references may be written
    differently (the amount's no-break space becomes ``&nbsp;``, ``&#39;`` becomes ``'``)."""
    tenant = TenantConfig(email_header_key=header_key)
    written = rendering._environment().get_template("email.html").render(_product_fields(tenant, is_test))

    sent = render_message("email", bill=bill(customer_name=CUSTOMER), config=tenant,
                          utility="ACME", link=LINK, expires_at=EXPIRES, is_test=is_test).html

    assert sent is not None
    assert unescape(sent) == unescape(written)
    assert "Rossi &amp; D'Amico &lt;S.r.l.&gt;" in sent
    assert find_removal(written) is None
    assert f'<a href="{LINK}"' in written
    assert ("cid:header-image@bolletta" in written) == bool(header_key)


def test_copied_product_template_sent_unchanged() -> None:
    source = (rendering.MESSAGES_DIR / "email.html").read_text(encoding="utf-8")
    subject = (rendering.MESSAGES_DIR / "email_subject.txt").read_text(encoding="utf-8")
    tenant = TenantConfig(email_header_key="assets/email-header-0123456789abcdef")
    product = render_message("email", bill=bill(), config=tenant, utility="ACME", link=LINK, expires_at=EXPIRES,
                             is_test=False).html

    tenant.message_texts = {"it": MessageTexts(email_subject=subject,
                                               email_text="{{ link }}", email_html=source)}
    copied = render_message("email", bill=bill(), config=tenant, utility="ACME", link=LINK, expires_at=EXPIRES,
                            is_test=False).html

    assert copied == product


@pytest.mark.parametrize(("style", "kept"), [
    ("color:#fff;padding:4px 8px", "color:#fff;padding:4px 8px"),
    ("color: rgba(0, 0, 0, .5); font: 14px/1.5 'Segoe UI'", "color: rgba(0, 0, 0, .5); font: 14px/1.5 'Segoe UI'"),
    ("mso-line-height-rule:exactly;line-height:20px", "mso-line-height-rule:exactly;line-height:20px"),
    ("color:red;position:fixed;top:0", "color:red"),
    ("color:red;behavior:url(x.htc)", "color:red"),
    ("font-family:\"a;b\"", None),
    ("color:red/* comment */", None),
    ("width:calc(100% - 2px)", None),
    ("", None),
])
def test_style_keeps_only_plain_declarations(style: str, kept: str | None) -> None:
    assert clean_style(style) == kept


def test_cleaning_twice_changes_nothing_more() -> None:
    dirty = '<p style="color:red;background:url(x)"><a href="https://a.example/?a=1&b=2">x</a><img src="cid:a"></p>'

    once = clean_email_html(dirty)

    assert clean_email_html(once) == once
    assert find_removal(once) is None
