// Live updates of the feed and thread pages (docs/ARCHITECTURE.md "Live updates"): listens to
// GET /api/v1/stream and changes the page in place. The pages work without it (no script, an
// old browser): a reload shows the same. It only ever inserts text (textContent), never HTML.
(function () {
  'use strict';
  var region = document.getElementById('live');
  if (!region || typeof EventSource !== 'function') return;
  var mode = region.getAttribute('data-live');
  var postId = region.getAttribute('data-post');
  var fresh = 0;
  // The page's words for what this script says (live-messages.ts); English if they are missing.
  var words = {};
  try {
    words = JSON.parse(region.getAttribute('data-messages') || '{}') || {};
  } catch (err) {
    words = {};
  }
  function word(key, english, vars) {
    var text = typeof words[key] === 'string' ? words[key] : english;
    return text.replace(/\{\{(\w+)\}\}/g, function (m, name) {
      return vars && name in vars ? String(vars[name]) : m;
    });
  }
  function newPosts(n) {
    var forms = words.newPosts || {};
    var cat = typeof Intl === 'object' && Intl.PluralRules ? new Intl.PluralRules(document.documentElement.lang || 'en').select(n) : n === 1 ? 'one' : 'other';
    var text = forms[cat] || forms.other || (n === 1 ? '{{count}} new post — ' : '{{count}} new posts — ');
    return text.replace(/\{\{count\}\}/g, String(n));
  }

  function say(text) {
    region.textContent = text;
  }

  function data(e) {
    try {
      return JSON.parse(e.data);
    } catch (err) {
      return null;
    }
  }

  function removePostCard(id) {
    var t = document.getElementById('t-' + id);
    var card = t && t.closest('article');
    if (card) {
      card.remove();
      return true;
    }
    return false;
  }

  function commentsList() {
    var section = document.getElementById('comments');
    if (!section) return null;
    var list = section.querySelector('ol.comments');
    if (!list) {
      list = document.createElement('ol');
      list.className = 'comments';
      var h = section.querySelector('h2');
      var none = h && h.nextElementSibling;
      if (none && none.tagName === 'P') none.remove();
      if (h) h.after(list);
      else section.prepend(list);
    }
    return list;
  }

  function addComment(c) {
    if (!c || document.getElementById('c-' + c.id)) return;
    var list = commentsList();
    if (!list) return;
    var li = document.createElement('li');
    li.id = 'c-' + c.id;
    li.className = 'comment live-new';
    var who = (c.author && (c.author.name || c.author.email)) || word('someone', 'Someone');
    var meta = document.createElement('p');
    meta.className = 'meta';
    meta.textContent = who + ' · ' + word('justNow', 'just now');
    var body = document.createElement('div');
    body.className = 'body';
    var pre = document.createElement('p');
    pre.textContent = c.body_text || '';
    body.appendChild(pre);
    li.appendChild(meta);
    li.appendChild(body);
    list.appendChild(li);
    say(word('newComment', 'New comment from {{name}}.', { name: who }));
  }

  var es = new EventSource('/api/v1/stream');

  if (mode === 'feed') {
    es.addEventListener('post.created', function (e) {
      var d = data(e);
      if (!d || !d.post || document.getElementById('t-' + d.post.id)) return;
      // A feed narrowed to one group counts only that group's posts.
      var only = new URLSearchParams(window.location.search).get('group');
      if (only && !(d.post.group && d.post.group.slug === only)) return;
      fresh += 1;
      region.textContent = '';
      region.append(newPosts(fresh));
      var a = document.createElement('a');
      a.href = window.location.pathname + window.location.search;
      a.textContent = word('show', 'show');
      region.append(a);
    });
    es.addEventListener('post.deleted', function (e) {
      var d = data(e);
      if (d && d.post && removePostCard(d.post.id)) say(word('postRemoved', 'A post was removed.'));
    });
  } else if (mode === 'thread' && postId) {
    es.addEventListener('comment.created', function (e) {
      var d = data(e);
      if (d && d.post && d.post.id === postId) addComment(d.comment);
    });
    es.addEventListener('comment.updated', function (e) {
      var d = data(e);
      if (!d || !d.post || d.post.id !== postId || !d.comment) return;
      var li = document.getElementById('c-' + d.comment.id);
      var body = li && li.querySelector('.body');
      if (!body) return;
      body.textContent = '';
      var p = document.createElement('p');
      p.textContent = d.comment.body_text || '';
      body.appendChild(p);
      say(word('commentEdited', 'A comment was edited.'));
    });
    es.addEventListener('comment.deleted', function (e) {
      var d = data(e);
      if (!d || !d.post || d.post.id !== postId || !d.comment) return;
      var li = document.getElementById('c-' + d.comment.id);
      if (li) {
        li.remove();
        say(word('commentRemoved', 'A comment was removed.'));
      }
    });
    es.addEventListener('post.deleted', function (e) {
      var d = data(e);
      if (!d || !d.post || d.post.id !== postId) return;
      var main = document.getElementById('main');
      if (!main) return;
      main.textContent = '';
      var h = document.createElement('h1');
      h.textContent = word('removed', 'Removed');
      var p = document.createElement('p');
      p.textContent = word('thisPostRemoved', 'This post was removed.') + ' ';
      var a = document.createElement('a');
      a.href = '/web';
      a.textContent = word('back', 'Back to the feed');
      p.appendChild(a);
      main.appendChild(h);
      main.appendChild(p);
      main.appendChild(region);
      say(word('thisPostRemoved', 'This post was removed.'));
    });
  }
})();
