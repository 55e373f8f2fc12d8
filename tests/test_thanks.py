"""The generic readers of a provider's answer (assistant/run/thanks.py), on their own table:
which sentences thank, and which number a confirmation page shows. The pages are shaped after
real ones (WordPress, Bitrix, Zendesk, django-helpdesk, Russian government reception pages)."""

from __future__ import annotations

import pytest

from assistant.run.thanks import find_number, new_thanks, thanks_lines

NUMBERS = [
    ("Request received\nYour request number is REQ-000123.", "", "REQ-000123"),
    ("Спасибо! Ваше обращение № 2026-004512 зарегистрировано.", "", "2026-004512"),
    ("Заявка принята. Номер заявки: 45871", "", "45871"),
    ("Ваше обращение принято, ему присвоен номер 12-345/2026", "", "12-345/2026"),
    ("Ticket #48213 created", "", "48213"),
    ("Thanks! Reference: AB12CD34", "", "AB12CD34"),
    ("Ticket opened.\nTicket details\nTicket\t[HD-00001] Card charged", "", "HD-00001"),
    ("Id\t#20417\nStatus\tOpen", "", "20417"),
    # In the address only.
    ("Спасибо за обращение", "https://shop.example.ru/support/requests/778812", "778812"),
    ("Thanks", "https://example.com/done?ticket=REQ-1234", "REQ-1234"),
    # Numbers that are not the request's: none.
    ("Ваша заявка отправлена. Мы перезвоним по телефону +7 900 123-45-67", "", None),
    ("Thank you, we will be in touch.", "", None),
    ("Дата обращения: 06.12.2026", "", None),
    ("Your request from 2026-12-06 was received", "", None),
    ("Номер телефона: 89001234567", "", None),
    ("Сумма заказа: 2 480 руб.", "", None),
    ("Thanks", "https://example.com/contact/thanks?utm_source=12345", None),
]


@pytest.mark.parametrize(("text", "url", "number"), NUMBERS)
def test_the_number_a_confirmation_page_shows(text, url, number):
    assert find_number(text, url) == number


THANKS = [
    ("Спасибо! Ваше сообщение отправлено.", True),
    ("Ваша заявка успешно зарегистрирована", True),
    ("Обращение принято", True),
    ("Благодарим за обращение, мы ответим в течение 30 дней", True),
    ("Thank you for contacting us", True),
    ("Your request was successfully submitted.", True),
    ("Ticket opened and assigned to the Billing queue.", True),
    ("We'll get back to you within 2 business days", True),
    # Words of success that deny it, or stand beside an error.
    ("Сообщение не отправлено", False),
    ("Ошибка: заявка не принята", False),
    ("Не удалось отправить обращение, повторите позже", False),
    ("Error: your message could not be sent", False),
    ("Your message has not been sent. Please try again", False),
    ("Поле обязательно для заполнения", False),
    ("Принять условия", False),
    ("Contact us", False),
]


@pytest.mark.parametrize(("line", "thanks"), THANKS)
def test_which_sentences_thank(line, thanks):
    assert bool(thanks_lines(line)) is thanks


def test_only_a_thank_you_the_page_did_not_show_before_counts():
    before = thanks_lines("Contact us\nThank you for choosing Example Shop!\nName\nEmail")
    assert new_thanks(before, "Contact us\nThank you for choosing Example Shop!\nName\nThis field is required") == []
    assert new_thanks(before, "Thank you for choosing Example Shop!\nThanks, your message has been sent.") == [
        "Thanks, your message has been sent."
    ]
