"""The words the report and the screenshot banners show, in each language a package is read in.

One table, RU: its keys are the English texts themselves, so `grep -rn "How to verify" evidence/`
finds the template that shows a text and its Russian side by side. A key may hold {placeholders}
that word() fills in (the Russian holds the same ones; tests/test_report_language.py checks it).
A key the table lacks is an error in every language, English too: no English text can reach a
Russian report unnoticed. A language the table does not have is written in English.

What is never translated: values (the person's words, a page's title, URLs, hashes, file
names, what a flow or a page named something) and commands (the by-hand check).

The enumerations the manifest writes as words (an outcome, a step's kind and status) have
tables of their own, keyed by the manifest's value, since one English word can want two
Russian ones ("failed": a step «ошибка», a filing «сбой до отправки»).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

RU: Final[Mapping[str, str]] = {
    # ------------------------------------------------------------ headings and notes of the report
    "evidence": "доказательства",
    "Evidence package": "Пакет доказательств",
    "Evidence: {title}": "Доказательства: {title}",
    "Package made {when} by {tool}. Every file's SHA-256 is in manifest.json and SHA256SUMS; "
    "see “How to verify” at the end.": "Пакет собран {when} программой {tool}. SHA-256 каждого файла записан "
    "в manifest.json и SHA256SUMS; как их проверить, сказано в конце, в разделе «Как проверить».",
    "Case": "Обращение",
    "Time": "Время",
    "Request as sent": "Текст обращения",
    "Submitted form": "Отправленная форма",
    "Timeline": "Ход событий",
    "Attachments": "Вложения",
    "Attachments fitted to the provider's limits": "Вложения, подогнанные под ограничения компании",
    "The originals are in the package unchanged.": "Оригиналы лежат в пакете без изменений.",
    "Screenshots": "Снимки экрана",
    "Other screenshots": "Другие снимки экрана",
    "Each picture is the stamped copy, the page whole; the original PNG (same page, no banner, lossless) "
    "and its hash are named below it.": "Каждый снимок — копия со штампом, страница целиком; под ним названы "
    "исходный PNG (та же страница без штампа, без потерь) и его хеш.",
    "The person's device": "Устройство заявителя",
    "As the person reported it in the case; this tool did not see it.": "Со слов заявителя; эта программа "
    "устройство не видела.",
    "The case names no device.": "Устройство в обращении не указано.",
    "The capture environment": "Среда съёмки",
    "This machine and the browser that filled the form and took the screenshots.": "Компьютер и браузер, "
    "которые заполнили форму и сделали снимки экрана.",
    "Files": "Файлы",
    "How to verify": "Как проверить",
    "First list the zip: {command} must print nothing (no name twice: unzip would keep the last copy). "
    "Unzip it, save the timestamp authorities' CA certificates beside the folder, one after another in one "
    "file TSA-CA.pem, and in the folder run, with bash, GNU coreutils and OpenSSL 3 (the same block as in "
    "the assistant's docs, docs/evidence.md):": "Сначала выведите список файлов архива: команда {command} "
    "не должна ничего напечатать (ни одно имя не повторяется: unzip оставил бы последнюю копию). Распакуйте "
    "архив, сохраните рядом с папкой сертификаты удостоверяющих центров служб меток времени, один за другим "
    "в одном файле TSA-CA.pem, и выполните в папке, в bash с GNU coreutils и OpenSSL 3 (тот же блок, что "
    "в документации программы, docs/evidence.md):",
    "It prints {output} only when every check holds.": "Блок печатает {output}, только если пройдены все проверки.",
    "Signing key fingerprint (SHA-256 of the raw Ed25519 key): {fingerprint}; compare it with one the "
    "person gave you through another channel.": "Отпечаток ключа подписи (SHA-256 от ключа Ed25519): "
    "{fingerprint}; сверьте его с отпечатком, который заявитель передал вам по другому каналу.",
    "Timestamp authority: {authority}; TSA-CA.pem is that authority's published CA certificate.": "Служба "
    "меток времени: {authority}; TSA-CA.pem — опубликованный сертификат её удостоверяющего центра.",
    "Or, with the tool: {command}.": "Или программой: {command}.",
    # ------------------------------------------------------------ the case and the filing
    "provider": "компания",
    "category": "категория",
    "subject": "тема",
    "order id": "номер заказа",
    "incident at": "когда возникла проблема",
    "contact": "контактное лицо",
    "fingerprint": "отпечаток обращения",
    "lookup": "искомое обращение",
    "flow": "сценарий",
    "flow file": "файл сценария",
    "outcome": "итог",
    "why": "причина",
    "request number": "номер обращения",
    "none given on the provider's page": "компания не показала номер на своей странице",
    "{outcome} (dry run)": "{outcome} (пробный запуск)",
    "submitted at": "отправлено",
    "confirmation page": "страница подтверждения",
    # the categories of the bundled flows (flows/*.yaml `categories:`), and the common keys'
    "Payments and refunds": "Оплата и возврат денег",
    "Technical problem": "Техническая проблема",
    "Order and delivery": "Заказ и доставка",
    "Complaint about service": "Жалоба на обслуживание",
    "General question": "Общий вопрос",
    "Account": "Учётная запись",
    "Other": "Другое",
    "Consultation (how to use the account, deposits, withdrawals, fees)": "Консультация (как пользоваться "
    "счётом, пополнение, вывод, комиссии)",
    "Account blocking or deletion": "Блокировка или удаление учётной записи",
    "Claim about financial losses": "Претензия о финансовых потерях",
    "Statement or proposal": "Заявление или предложение",
    "Quality of goods": "Качество товара",
    "Late or incomplete delivery": "Опоздание или неполная доставка",
    "Courier's conduct": "Поведение курьера",
    "Wrong charge": "Неверное списание",
    "Rental questions": "Вопросы аренды",
    # ------------------------------------------------------------ time
    "provider's time zone": "часовой пояс компании",
    "person's time zone": "часовой пояс заявителя",
    "{zone} (from {source})": "{zone} (источник: {source})",
    "this machine's clock": "часы этого компьютера",
    "system clock; the kernel reports it is not synchronised (no NTP)": "системные часы; ядро сообщает, "
    "что они не синхронизированы (нет NTP)",
    "system clock, synchronised (the kernel reports NTP discipline)": "системные часы, синхронизированы "
    "(ядро сообщает о подстройке по NTP)",
    "system clock (whether it is synchronised is not known)": "системные часы (синхронизированы ли они, неизвестно)",
    "provider's clock": "часы компании",
    "{date} (the Date header of its last answer to the form, HTTP {status}); this machine's clock read "
    "{received} as it arrived: {said}": "{date} (заголовок Date её последнего ответа на форму, HTTP {status}); "
    "часы этого компьютера в момент получения показывали {received}: {said}",
    "the same, to the second": "то же время, с точностью до секунды",
    "this machine's clock was {seconds} s behind the provider's": "часы этого компьютера отставали от часов "
    "компании на {seconds} с",
    "this machine's clock was {seconds} s ahead of the provider's": "часы этого компьютера спешили "
    "относительно часов компании на {seconds} с",
    "trusted timestamp (RFC 3161)": "доверенная метка времени (RFC 3161)",
    "trusted timestamp": "доверенная метка времени",
    "signed by {signer}": "подпись: {signer}",
    "over the list of captured files, report/captured.sums; the sealed manifest has a timestamp of its "
    "own from each authority, manifest.tsr, manifest-2.tsr, …": "на список снятых файлов report/captured.sums; "
    "у запечатанного манифеста своя метка от каждой службы: manifest.tsr, manifest-2.tsr, …",
    "also stamped (RFC 3161)": "ещё одна метка (RFC 3161)",
    "clock check": "проверка часов",
    "this machine's clock is {seconds} s behind the timestamp authority's": "часы этого компьютера отстают "
    "от часов службы меток времени на {seconds} с",
    "this machine's clock is {seconds} s ahead of the timestamp authority's": "часы этого компьютера спешат "
    "относительно часов службы меток времени на {seconds} с",
    " (more than 2 minutes: the capture times above are off by as much)": " (больше 2 минут: время снимков "
    "выше сдвинуто на столько же)",
    "the sealed manifest is timestamped (manifest.tsr, asked of {authority}); `assistant evidence verify` "
    "shows its time and signer": "у запечатанного манифеста есть метка времени (manifest.tsr, запрошена у "
    "{authority}); её время и подписанта показывает `assistant evidence verify`",
    "none: the times are this machine's clock, signed but not certified by a timestamp authority: they "
    "rest on the signer's word": "нет: время указано по часам этого компьютера, подписано, но не заверено "
    "службой меток времени: оно держится на слове подписавшего",
    "the case's incident_at offset ({offset})": "смещение в incident_at обращения ({offset})",
    # a moment on each clock, as the banner labels it (the report's own words are CLOCKS, below)
    "Provider & person": "Компания и заявитель",
    "Provider": "Компания",
    "Person": "Заявитель",
    "UTC": "UTC",
    "URL": "Адрес",
    "Page": "Страница",
    "File": "Файл",
    # ------------------------------------------------------------ the request and the form
    "The fields as the page held them right before the submit click ({when}), on {url}. Passwords and "
    "secrets are masked.": "Поля в том виде, в каком их держала страница прямо перед нажатием кнопки "
    "отправки ({when}), на {url}. Пароли и секреты скрыты.",
    "field": "поле",
    "name": "имя",
    "value": "значение",
    "part": "часть",
    "checked": "отмечено",
    "not checked": "не отмечено",
    "unknown": "неизвестен",
    "No request was seen after the click.": "После нажатия запроса замечено не было.",
    "The request the click made": "Запрос, отправленный нажатием",
    "{content_type}; Content-Length {length}; sent {sent}.": "{content_type}; Content-Length {length}; "
    "отправлен {sent}.",
    "the text of the field above, line for line (sent with CRLF line breaks)": "текст поля выше, строка "
    "в строку (отправлен с переводами строк CRLF)",
    # ------------------------------------------------------------ the timeline
    "{day}, times in {zone} (the person's zone), as this machine's clock read them; the first step "
    "at {utc}. The provider's own clock and the timestamp authorities' are under “Time”.": "{day}, время — "
    "{zone} (часовой пояс заявителя), по часам этого компьютера; первый шаг — {utc}. Часы компании и служб "
    "меток времени — в разделе «Время».",
    "#": "№",
    "start": "начало",
    "took": "длилось",
    "action": "действие",
    "page after": "страница после",
    "result": "результат",
    "Action": "Действие",  # a step of a kind STEPS does not have
    "screenshot: {names}": "снимок: {names}",
    "Step {number}: {caption}": "Шаг {number}: {caption}",
    "{what}: {detail}": "{what}: {detail}",
    "“{text}”": "«{text}»",
    # ------------------------------------------------------------ attachments
    "file": "файл",
    "size": "размер",
    "dated": "дата",
    "file dated": "дата файла",
    "file dated (photo's EXIF DateTimeOriginal)": "дата файла (EXIF DateTimeOriginal снимка)",
    "file modified (its file-system time)": "файл изменён (время в файловой системе)",
    "made by this tool from {names}": "сделан этой программой из {names}",
    "not known": "неизвестна",
    "from {sources}: {actions}": "из {sources}: {actions}",
    # ------------------------------------------------------------ the pictures
    "captured {when}": "снят {when}",
    "URL: {url}": "Адрес: {url}",
    "Page title: {title}": "Заголовок страницы: {title}",
    "Only part of the page: {cut}": "Снята только часть страницы: {cut}",
    "Blacked out: {count} place(s) where the page showed a password or secret typed in this run": "Закрашены "
    "места, где страница показывала пароль или секрет, введённый при этом запуске: {count}",
    "Page kept as {paths}": "Страница сохранена как {paths}",
    ", made inert ({removed} taken out)": ", обезврежена (удалено: {removed})",
    "nothing needed taking out": "ничего не понадобилось",
    # what evidence.inert takes out of a page (its counts' keys)
    "script": "скрипты",
    "noscript": "блоки noscript",
    "base": "элемент base",
    "handler": "обработчики событий",
    "reference": "ссылки наружу",
    "meta refresh": "meta refresh",
    "meta set-cookie": "meta set-cookie",
    "svg animation": "SVG-анимация",
    "page kept as text only": "страница сохранена только как текст",
    # ------------------------------------------------------------ the device and the capture environment
    "model": "модель",
    "os": "ОС",
    "os version": "версия ОС",
    "app version": "версия приложения",
    "browser": "браузер",
    "kernel": "ядро",
    "architecture": "архитектура",
    "python": "Python",
    "playwright": "Playwright",
    "browser version": "версия браузера",
    "browser source": "откуда браузер",
    "user agent": "User-Agent",
    "viewport": "окно браузера",
    "{width} × {height} CSS pixels": "{width} × {height} (CSS-пиксели)",
    "device scale factor": "плотность пикселей (device pixel ratio)",
    "emulated device": "эмулируемое устройство",
    "browser locale (the person's)": "язык и регион браузера (как у заявителя)",
    "browser time zone (the person's)": "часовой пояс браузера (как у заявителя)",
    "this machine's UTC offset": "смещение от UTC на этом компьютере",
    "headless": "режим без окна (headless)",
    "yes (no window)": "да (без окна)",
    "no (a visible window)": "нет (с видимым окном)",
    "launch args": "параметры запуска браузера",
    "{count} switches, listed in manifest.json (environment.launch_args)": "ключей командной строки: {count}, "
    "список — в manifest.json (environment.launch_args)",
    "certificate errors": "ошибки сертификатов",
    "certificate of {origin}": "сертификат {origin}",
    "validated": "проверен браузером",
    "NOT validated": "НЕ проверен",
    "subject {subject}": "субъект {subject}",
    "issuer {issuer}": "издатель {issuer}",
    "valid to {date}": "действителен до {date}",
    "certificates": "сертификаты",
    "none recorded (no HTTPS page was loaded)": "не записаны (ни одна страница не загружалась по HTTPS)",
    "proxy": "прокси",
    "outward address": "внешний адрес",
    "yes": "да",
    "no": "нет",
    # ------------------------------------------------------------ the files
    "path": "путь",
}

# A category key as people read it, when the manifest does not record the flow's own label:
# the keys the bundled flows use (grep `categories:` flows/*.yaml), each with the label most of
# them give it, and the usual others.
CATEGORIES: Final[Mapping[str, str]] = {
    "payment": "Payments and refunds",
    "technical": "Technical problem",
    "delivery": "Order and delivery",
    "complaint": "Complaint about service",
    "general": "General question",
    "account": "Account",
    "other": "Other",
    "consultation": "Consultation (how to use the account, deposits, withdrawals, fees)",
    "claim": "Claim about financial losses",
    "proposal": "Statement or proposal",
    "quality": "Quality of goods",
    "courier": "Courier's conduct",
    "rental": "Rental questions",
}

# Whose clock a moment is on, as the report says it beside the time (Clocks.lines' labels).
CLOCKS: Final[Mapping[str, tuple[str, str]]] = {
    "Provider & person": ("provider & person", "по часам компании и заявителя"),
    "Provider": ("provider", "по часам компании"),
    "Person": ("person", "по часам заявителя"),
}

# What a filing came to (evidence.manifest.FilingOutcome): English as the manifest writes it.
OUTCOMES: Final[Mapping[str, tuple[str, str]]] = {
    "confirmed": ("confirmed", "принято, номер получен"),
    "accepted": ("accepted", "принято, без номера"),
    "rejected": ("rejected", "отклонено"),
    "unknown": ("unknown", "неизвестно: подтверждения не пришло"),
    "drafted": ("drafted", "подготовлено для отправки заявителем"),
    "not_submitted": ("not_submitted", "не отправлено"),
    "failed": ("failed", "сбой до отправки"),
    "pending": ("pending", "ожидает"),
}

# A step's status in the timeline (evidence.manifest.Action.status).
STATUSES: Final[Mapping[str, tuple[str, str]]] = {
    "ok": ("ok", "выполнено"),
    "failed": ("failed", "ошибка"),
    "skipped": ("skipped", "пропущено"),
}

# What a step did, by its kind (the flow language's steps, assistant/language/flow.py STEPS, and
# the actions a run adds: the success check, a lookup, a capture, an email's draft and send).
STEPS: Final[Mapping[str, tuple[str, str]]] = {
    "goto": ("Opened the page", "Открыта страница"),
    "click": ("Click", "Нажатие"),
    "fill": ("Filled in", "Заполнено поле"),
    "select": ("Chose an option", "Выбран вариант"),
    "check": ("Ticked a box", "Отмечен флажок"),
    "upload": ("Attached files", "Приложены файлы"),
    "press": ("Pressed a key", "Нажата клавиша"),
    "wait_for": ("Waited for the page", "Ожидание"),
    "screenshot": ("Screenshot of the page", "Снимок страницы"),
    "assert_visible": ("Checked the page shows it", "Проверка: элемент на странице"),
    "assert_text": ("Checked the page's text", "Проверка текста страницы"),
    "extract": ("Read a value from the page", "Считано значение со страницы"),
    "pause_for_human": ("The person's turn", "Действие заявителя"),
    "submit": ("Submitting the form", "Отправка формы"),
    "success": ("Waiting for the provider's confirmation", "Ожидание подтверждения от компании"),
    "lookup": ("Read the provider's list of requests", "Просмотр списка обращений у компании"),
    "capture": ("Opened and captured the page", "Открыта и снята страница"),
    "draft": ("Message written for the person to send", "Письмо подготовлено для отправки заявителем"),
    "send": ("Message handed to the mail server", "Письмо передано почтовому серверу"),
}


def language_of(code: str | None) -> str:
    """'ru' for Russian ('ru', 'ru-RU'), 'en' for anything else: the languages this table has."""
    return "ru" if code is not None and code.lower().split("-")[0] == "ru" else "en"


def word(key: str, language: str = "en", /, **values: object) -> str:
    """The text `key` in the language, its {placeholders} filled with values (as they are:
    values are never translated). KeyError for a text the table lacks, in every language."""
    if key not in RU:
        raise KeyError(f"{key!r} is not in evidence/words.py")
    text = RU[key] if language_of(language) == "ru" else key
    return text.format(**values) if values else text


def known(text: str, language: str = "en") -> str:
    """A text the tool wrote as a value (the clock's source, a category's label), in the
    language when the table has it, else as it is."""
    return word(text, language) if text in RU else text


def of(table: Mapping[str, tuple[str, str]], value: str, language: str = "en") -> str:
    """An enumeration's value (OUTCOMES, STATUSES, STEPS) in the language; unknown ones as they are."""
    pair = table.get(value)
    if pair is None:
        return value
    return pair[1] if language_of(language) == "ru" else pair[0]


def category_label(key: str, label: str | None = None, language: str = "en") -> str:
    """A case's category as people read it: the flow's own label when the manifest records it
    (in Russian when the table has it), else the label of a common key, else the key itself."""
    if label:
        return known(label, language)
    common = CATEGORIES.get(key)
    return word(common, language) if common is not None else key


def plural_ru(n: int, one: str, few: str, many: str) -> str:
    """The Russian noun after the number n: 1 байт, 2 байта, 5 байт, 11 байт, 21 байт."""
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many
