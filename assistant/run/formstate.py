"""What a page's form controls hold, for the evidence: page scripts run by the capturer.

The DOM keeps what was typed in properties (an input's `value`, a checkbox's
`checked`), not in attributes, so a serialised page (HTML, MHTML) shows the
form as the server sent it: empty. Before a capture is serialised, REFLECT
writes the live state into attributes (`value=`, a textarea's text,
`selected`, `checked`, `data-files=` with each chosen file's name, size and
SHA-256) and stretches every textarea to its whole text, so the picture shows
the whole complaint; UNDO puts every attribute and style back as it was.

Writing an attribute never changes what the form sends: a control the person
(or the run) changed is "dirty" and no longer follows its attribute, and one
that is not dirty already equals it, so it is left alone. Passwords, values the
run keeps secret and fields whose name says they hold a secret are not written.

READ_FORM reads the form of the submit button as it is right before the click.
"""

from __future__ import annotations

import json
from typing import Any

from evidence.scrub import SECRET_ENDINGS, SECRET_WORDS

# A field whose name says it holds a secret (the same rule as evidence.scrub.secret).
_SECRET_NAME = (
    "const SECRET_WORDS = new Set(" + json.dumps(sorted(SECRET_WORDS)) + ");\n"
    "const SECRET_ENDINGS = " + json.dumps(list(SECRET_ENDINGS)) + ";\n"
    r"""const secretName = (name) => {
  const words = (name || '').replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().match(/[a-z0-9]+/g) || [];
  if (words.some((w) => SECRET_WORDS.has(w) || SECRET_ENDINGS.some((e) => w.endsWith(e)))) return true;
  return /card.?(num|no\b)|cc.?num/i.test(name || '');
};
"""
)

_REFLECT = (
    "(opts) => {\n"
    + _SECRET_NAME
    + r"""
  // Written in twice (a capture tried again): the first is undone, so the second records the page's own state.
  for (const step of (globalThis.__supportAssistantUndo || []).reverse()) { try { step(); } catch (e) {} }
  const undo = [];
  globalThis.__supportAssistantUndo = undo;  // from the start: a page that breaks the loop half-way is undone too
  // Putting back a `selected` or `checked` attribute re-selects an option or radio the person
  // never touched (only what they changed is "dirty"): so the choices themselves are put back
  // last, as they were (the list runs backwards).
  const choices = [];
  undo.push(() => { for (const [el, prop, was] of choices) if (el[prop] !== was) el[prop] = was; });
  const setAttr = (el, name, value) => {
    const before = el.getAttribute(name);
    if (before === value) return;
    undo.push(() => (before === null ? el.removeAttribute(name) : el.setAttribute(name, before)));
    if (value === null) el.removeAttribute(name); else el.setAttribute(name, value);
  };
  const secret = (el) => {
    const type = (el.type || '').toLowerCase();
    if (type === 'password') return true;
    if (secretName(el.name) || secretName(el.id)) return true;
    const auto = (el.getAttribute('autocomplete') || '').toLowerCase();
    if (/cc-number|cc-csc|one-time-code|current-password|new-password/.test(auto)) return true;
    const value = el.value || '';
    return opts.secrets.some((s) => s && value.includes(s));
  };
  const roots = [document];
  for (let i = 0; i < roots.length; i++) {
    for (const host of roots[i].querySelectorAll('*')) if (host.shadowRoot) roots.push(host.shadowRoot);
  }
  let changed = 0;
  for (const root of roots) {
    for (const el of root.querySelectorAll('input, textarea, select')) {
      const tag = el.tagName.toLowerCase();
      const type = (el.type || '').toLowerCase();
      if (tag === 'select') {
        for (const option of el.options) {
          choices.push([option, 'selected', option.selected]);
          setAttr(option, 'selected', option.selected ? '' : null);
        }
        continue;
      }
      if (type === 'checkbox' || type === 'radio') {
        choices.push([el, 'checked', el.checked]);
        setAttr(el, 'checked', el.checked ? '' : null);
        continue;
      }
      if (type === 'file') {
        const files = [...(el.files || [])].map((f) => {
          const known = opts.files.find((k) => k.name === f.name && k.size === f.size);
          return {name: f.name, size: f.size, type: f.type || null, sha256: known ? known.sha256 : null};
        });
        setAttr(el, 'data-files', files.length ? JSON.stringify(files) : null);
        continue;
      }
      if (['button', 'submit', 'reset', 'image'].includes(type) || secret(el)) continue;
      if (tag === 'textarea') {
        if (el.textContent !== el.value) {
          const before = el.textContent;
          undo.push(() => { el.textContent = before; });
          el.textContent = el.value;
        }
        if (opts.expand && el.scrollHeight > el.clientHeight + 1 && el.getClientRects().length) {
          // Undone last (the list runs backwards): no empty style="" is left behind, the text scrolled as it was.
          const scrolled = el.scrollTop;
          const bare = !el.hasAttribute('style');
          undo.push(() => { if (bare && !el.getAttribute('style')) el.removeAttribute('style'); el.scrollTop = scrolled; });
          const style = getComputedStyle(el);
          const edges = ['borderTopWidth', 'borderBottomWidth'].reduce((sum, k) => sum + parseFloat(style[k] || 0), 0);
          const box = style.boxSizing === 'border-box' ? edges : -['paddingTop', 'paddingBottom']
            .reduce((sum, k) => sum + parseFloat(style[k] || 0), 0);
          // Through the CSSOM: a page's Content-Security-Policy may refuse a written style attribute.
          const set = (prop, value) => {
            const before = [el.style.getPropertyValue(prop), el.style.getPropertyPriority(prop)];
            undo.push(() => (before[0] ? el.style.setProperty(prop, ...before) : el.style.removeProperty(prop)));
            el.style.setProperty(prop, value, 'important');
          };
          // The scrollbar goes first: a textarea sized by `cols` loses its room and wraps into more
          // lines, so the height is measured after, and again while the text still overflows.
          set('overflow', 'hidden');
          set('max-height', 'none');
          set('height', `${el.scrollHeight + box}px`);
          for (let i = 0; i < 3 && el.scrollHeight > el.clientHeight + 1; i++) {
            el.style.setProperty('height', `${el.scrollHeight + box}px`, 'important');
          }
          // From its first line: filling left the caret's line, the last, in view.
          el.scrollTop = 0;
          el.scrollLeft = 0;
        }
      } else {
        setAttr(el, 'value', el.value);
      }
      changed++;
    }
  }
  return changed;
}"""
)

UNDO = """(() => {
  const undo = globalThis.__supportAssistantUndo || [];
  globalThis.__supportAssistantUndo = [];
  for (const step of undo.reverse()) { try { step(); } catch (e) {} }
  return undo.length;
})()"""


def reflect(files: list[dict[str, Any]], secrets: list[str], *, expand: bool) -> str:
    """The REFLECT expression, with what it needs: the run's files (name, size, sha256) and its secrets."""
    return f"({_REFLECT})({json.dumps({'files': files, 'secrets': secrets, 'expand': expand})})"


# Runs in the submit button's frame (element = the button). The form's own controls, in order.
READ_FORM = r"""
(element) => {
  const doc = element.ownerDocument;
  const form = element.form || element.closest('form');
  const clean = (t) => (t || '').replace(/\s+/g, ' ').trim();
  const labelOf = (c) => {
    let text = '';
    if (c.labels && c.labels.length) {
      const copy = c.labels[0].cloneNode(true);
      copy.querySelectorAll('input, select, textarea').forEach((n) => n.remove());
      text = copy.textContent;
    }
    if (!clean(text) && c.getAttribute('aria-labelledby')) {
      text = c.getAttribute('aria-labelledby').split(/\s+/)
        .map((id) => doc.getElementById(id)).filter(Boolean).map((e) => e.textContent).join(' ');
    }
    text = clean(text) || c.getAttribute('aria-label') || c.getAttribute('placeholder') || '';
    return clean(text).replace(/[\s*:]+$/, '') || null;
  };
  const controls = form ? [...form.elements] : [...doc.querySelectorAll('input, select, textarea')];
  const fields = [];
  // The entries the browser makes of the form on submission (HTML's "constructing the entry list"),
  // read the same way but without building a FormData, whose formdata event the page would see.
  const entries = [];
  for (const c of controls) {
    const tag = c.tagName.toLowerCase();
    if (!['input', 'select', 'textarea', 'button'].includes(tag) || c.disabled || c.closest('datalist')) continue;
    const type = (c.type || tag).toLowerCase();
    if (['submit', 'button', 'reset', 'image'].includes(type) && c !== element) continue;
    if ((type === 'checkbox' || type === 'radio') && !c.checked) continue;
    if (!c.name || type === 'image') continue;
    if (tag === 'select') {
      for (const o of c.options) if (o.selected && !o.disabled) entries.push([c.name, o.value]);
    } else if (type === 'file') {
      const files = [...(c.files || [])];
      if (!files.length) entries.push([c.name, {name: '', size: 0, type: 'application/octet-stream'}]);
      for (const f of files) entries.push([c.name, {name: f.name, size: f.size, type: f.type || 'application/octet-stream'}]);
    } else if (type === 'hidden' && c.name.toLowerCase() === '_charset_') {
      entries.push([c.name, 'UTF-8']);
    } else {
      entries.push([c.name, c.value.replace(/\r\n|\r|\n/g, '\r\n')]);
    }
  }
  for (const c of controls) {
    const tag = c.tagName.toLowerCase();
    if (!['input', 'select', 'textarea', 'button'].includes(tag) || c.disabled) continue;
    const type = (c.type || tag).toLowerCase();
    if (['submit', 'button', 'reset', 'image'].includes(type) && (c !== element || !c.name)) continue;
    const field = {label: labelOf(c), name: c.name || c.id || null, type, value: null, checked: null, files: []};
    if (type === 'password') field.masked = true;
    else if (type === 'file') field.files = [...(c.files || [])].map((f) => ({name: f.name, size: f.size, type: f.type || null}));
    else if (tag === 'select' && c.multiple) field.value = [...c.selectedOptions].map((o) => o.value);
    else field.value = c.value;
    if (type === 'checkbox' || type === 'radio') field.checked = c.checked;
    fields.push(field);
  }
  return {fields, entries, form: !!form, enctype: form ? form.enctype : null};
}
"""
