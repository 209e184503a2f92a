// The web composer's helpers (docs/ARCHITECTURE.md "Web composer"): the Markdown preview in
// place, and suggestions of people after "@" (the ARIA combobox pattern with a listbox). The
// form works without it: Preview then posts the form and the server shows the preview on a
// page of its own. Names are inserted as text (textContent); the preview is the server's
// sanitised HTML (the mail sanitiser), parsed inertly and moved in.
(function () {
  'use strict';
  var form = document.querySelector('form[data-composer]');
  if (!form || typeof fetch !== 'function') return;
  var textarea = form.querySelector('textarea[data-mentions]');
  var previewButton = form.querySelector('[data-preview]');
  var region = document.getElementById('compose-preview');
  var csrfInput = form.querySelector('input[name="_csrf"]');
  var csrf = csrfInput ? csrfInput.value : '';
  // The page's words for what this script says (live-messages.ts); English if they are missing.
  var words = {};
  try {
    words = JSON.parse(form.getAttribute('data-messages') || '{}') || {};
  } catch (err) {
    words = {};
  }
  function word(key, english) {
    return typeof words[key] === 'string' ? words[key] : english;
  }
  function peopleFound(n) {
    var forms = words.found || {};
    var cat = typeof Intl === 'object' && Intl.PluralRules ? new Intl.PluralRules(document.documentElement.lang || 'en').select(n) : n === 1 ? 'one' : 'other';
    var text = forms[cat] || forms.other || (n === 1 ? '{{count}} person found: arrow keys to choose, Enter to insert' : '{{count}} people found: arrow keys to choose, Enter to insert');
    return text.replace(/\{\{count\}\}/g, String(n));
  }

  function post(url, fields) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }

  // --- Preview in place --------------------------------------------------------------------
  if (previewButton && region && textarea) {
    previewButton.addEventListener('click', function (e) {
      if (!textarea.value.trim()) return; // the browser says the field is required
      e.preventDefault();
      post('/web/preview', { _csrf: csrf, body: textarea.value })
        .then(function (r) {
          if (!r.ok) throw new Error('preview ' + r.status);
          return r.text();
        })
        .then(function (markup) {
          var doc = new DOMParser().parseFromString(markup, 'text/html');
          var heading = document.createElement('h3');
          heading.textContent = word('preview', 'Preview');
          region.replaceChildren(heading);
          while (doc.body.firstChild) region.appendChild(document.adoptNode(doc.body.firstChild));
          region.hidden = false;
        })
        .catch(function () {
          region.hidden = false;
          region.textContent = word('previewFailed', 'The preview could not be shown. Try again in a moment.');
        });
    });
  }

  // --- @ suggestions -----------------------------------------------------------------------
  if (!textarea) return;
  var list = document.createElement('ul');
  list.id = 'mention-list';
  list.className = 'mention-list';
  list.setAttribute('role', 'listbox');
  list.setAttribute('aria-label', word('mentionList', 'People to mention'));
  list.hidden = true;
  var status = document.createElement('p');
  status.className = 'visually-hidden';
  status.setAttribute('role', 'status');
  textarea.parentNode.appendChild(list);
  textarea.parentNode.appendChild(status);
  textarea.setAttribute('role', 'combobox');
  textarea.setAttribute('aria-multiline', 'true');
  textarea.setAttribute('aria-autocomplete', 'list');
  textarea.setAttribute('aria-controls', list.id);
  textarea.setAttribute('aria-expanded', 'false');

  var people = [];
  var active = -1;
  var timer = 0;
  var asked = 0;

  /** The "@name" being typed just before the caret, or null. */
  function mentionAtCaret() {
    var before = textarea.value.slice(0, textarea.selectionStart);
    var m = /(^|\s)@([^\s@]{1,50})$/.exec(before);
    return m ? { start: before.length - m[2].length - 1, query: m[2] } : null;
  }

  function close() {
    list.hidden = true;
    list.replaceChildren();
    people = [];
    active = -1;
    textarea.setAttribute('aria-expanded', 'false');
    textarea.removeAttribute('aria-activedescendant');
  }

  function highlight(i) {
    active = i;
    var items = list.children;
    for (var k = 0; k < items.length; k++) items[k].setAttribute('aria-selected', k === i ? 'true' : 'false');
    if (i >= 0 && items[i]) textarea.setAttribute('aria-activedescendant', items[i].id);
    else textarea.removeAttribute('aria-activedescendant');
  }

  function choose(i) {
    var m = mentionAtCaret();
    var p = people[i];
    if (!m || !p) return close();
    var insert = '@' + p.email + ' ';
    var caret = textarea.selectionStart;
    textarea.value = textarea.value.slice(0, m.start) + insert + textarea.value.slice(caret);
    var at = m.start + insert.length;
    textarea.setSelectionRange(at, at);
    status.textContent = (p.name || p.email) + ' mentioned';
    close();
    textarea.focus();
  }

  function show(found) {
    people = found;
    list.replaceChildren();
    found.forEach(function (p, i) {
      var li = document.createElement('li');
      li.id = 'mention-' + i;
      li.setAttribute('role', 'option');
      li.setAttribute('aria-selected', 'false');
      var name = document.createElement('span');
      name.textContent = p.name || p.email;
      var mail = document.createElement('span');
      mail.className = 'hint';
      mail.textContent = ' ' + p.email;
      li.appendChild(name);
      li.appendChild(mail);
      // mousedown, not click: the textarea keeps the focus and the caret.
      li.addEventListener('mousedown', function (e) {
        e.preventDefault();
        choose(i);
      });
      list.appendChild(li);
    });
    var open = found.length > 0;
    list.hidden = !open;
    textarea.setAttribute('aria-expanded', open ? 'true' : 'false');
    status.textContent = open ? peopleFound(found.length) : word('nobody', 'Nobody found');
    highlight(open ? 0 : -1);
  }

  textarea.addEventListener('input', function () {
    clearTimeout(timer);
    var m = mentionAtCaret();
    if (!m) return close();
    timer = setTimeout(function () {
      var ticket = ++asked;
      fetch('/web/people/suggest?q=' + encodeURIComponent(m.query), { credentials: 'same-origin' })
        .then(function (r) {
          return r.ok ? r.json() : { people: [] };
        })
        .then(function (answer) {
          if (ticket === asked && mentionAtCaret()) show(answer.people || []);
        })
        .catch(close);
    }, 150);
  });

  textarea.addEventListener('keydown', function (e) {
    if (list.hidden) return;
    if (e.key === 'ArrowDown') highlight((active + 1) % people.length);
    else if (e.key === 'ArrowUp') highlight((active - 1 + people.length) % people.length);
    else if (e.key === 'Enter' || e.key === 'Tab') choose(active);
    else if (e.key === 'Escape') close();
    else return;
    e.preventDefault();
  });
  textarea.addEventListener('blur', function () {
    setTimeout(close, 100);
  });
})();
