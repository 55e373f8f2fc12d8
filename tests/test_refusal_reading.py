"""The refusal reader on the shapes real support forms use, in a real browser.

Each page below is the markup a form framework or builder renders for a refused
field (trimmed to the parts that matter): the reader must quote the site's words
and name the field the way the person sees it, and must not take a thank-you
notice for a refusal.
"""

from __future__ import annotations

import pytest

from assistant.run.outcome import read_refusal

SUBMIT = "button, input[type=submit]"

SHAPES = {
    "django-as-p": (
        '<form><ul class="errorlist"><li>Enter a valid email address.</li></ul>'
        '<p><label for="id_email">Your E-Mail Address:</label> <input type="text" name="email" id="id_email"></p>'
        '<input type="submit" value="Submit"></form>',
        ['Your E-Mail Address: "Enter a valid email address."'],
    ),
    "contact-form-7": (
        '<form class="wpcf7-form invalid"><p><label> Your email<br><span class="wpcf7-form-control-wrap">'
        '<input type="email" name="your-email" aria-invalid="true" aria-describedby="tip-email">'
        '<span class="wpcf7-not-valid-tip" id="tip-email">The e-mail address entered is invalid.</span>'
        '</span></label></p><input type="submit" value="Send">'
        '<div class="wpcf7-response-output">One or more fields have an error. Please check and try again.</div>'
        "</form>",
        [
            'Your email: "The e-mail address entered is invalid."',
            '"One or more fields have an error. Please check and try again."',
        ],
    ),
    "bitrix24-crm-form": (
        '<form><div class="b24-form-field"><div class="b24-form-control-container">'
        '<input class="b24-form-control" type="text" name="email">'
        '<div class="b24-form-control-label">E-mail</div>'
        '<div class="b24-form-control-alert-message">Поле заполнено неверно</div></div></div>'
        '<button type="submit">Отправить</button></form>',
        ['E-mail: "Поле заполнено неверно"'],
    ),
    "gravity-forms": (
        '<form><div class="gfield gfield_error"><label class="gfield_label" for="input_1_3">Email</label>'
        '<div class="ginput_container"><input id="input_1_3" type="text" aria-invalid="true" '
        'aria-describedby="validation_message_1_3"></div>'
        '<div class="gfield_description validation_message gfield_validation_message" id="validation_message_1_3">'
        "Please enter a valid email address.</div></div><button>Submit</button></form>",
        ['Email: "Please enter a valid email address."'],
    ),
    "zendesk-request-form": (
        '<form><div class="form-field required"><label for="req_email">Your email address</label>'
        '<input type="email" id="req_email" aria-invalid="true" aria-describedby="req_email_error">'
        '<div class="notification notification-error notification-inline" id="req_email_error">Email: is invalid'
        "</div></div><input type=submit value=Submit></form>",
        ['Your email address: "Email: is invalid"'],
    ),
    "form-level-alert-in-russian": (
        '<div role="alert" class="alert">Не удалось отправить обращение. Попробуйте позже.</div>'
        '<form><input name="q"><button>Отправить</button></form>',
        ['"Не удалось отправить обращение. Попробуйте позже."'],
    ),
    "thank-you-notice-is-not-a-refusal": (
        '<div role="status">Спасибо! Ваше обращение принято.</div><form><input name="q"><button>Send</button></form>',
        [],
    ),
    "hidden-error-templates-are-not-shown": (
        '<form><p class="field-error" style="display:none">This field is required.</p>'
        '<input name="q"><button>Send</button></form>',
        [],
    ),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_reads_refusals_of_real_form_shapes(page, shape):
    markup, expected = SHAPES[shape]
    page.set_content(f'<!DOCTYPE html><html lang="en"><body>{markup}</body></html>')
    assert [str(r) for r in read_refusal(page, page.locator(SUBMIT), browser=False)] == expected


def test_the_browser_validation_message_counts_only_when_the_browser_blocked_the_send(page):
    page.set_content(
        '<form><label for="e">Email</label><input id="e" type="email" required value="anna">'
        "<button>Send</button></form>"
    )
    blocked = read_refusal(page, page.locator(SUBMIT), browser=True)
    assert [r.label for r in blocked] == ["Email"] and "@" in blocked[0].message
    # Once something left the browser, the browser's own opinion of a field proves nothing.
    assert read_refusal(page, page.locator(SUBMIT), browser=False) == []


def test_a_hostile_page_cannot_break_the_reader(page):
    page.set_content(
        '<form><span id="x&quot;]" class="error">Bad <b>value</b>\u2028\u001b[31m</span><label for="a">A</label>'
        '<input id="a"><button>Send</button></form>'
    )
    assert [str(r) for r in read_refusal(page, page.locator(SUBMIT), browser=False)] == ['"Bad value \x1b[31m"']
    # A page that breaks the DOM methods the reader uses: it reads nothing rather than failing the run.
    page.evaluate("() => { Element.prototype.querySelectorAll = () => { throw new Error('no'); }; }")
    assert read_refusal(page, page.locator(SUBMIT), browser=False) == []
