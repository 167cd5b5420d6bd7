() => {
  // Feedback votes, Markdown download and copy-all-citations in chat replies: one delegated listener, since
  // the sanitiser strips inline handlers and data-* attributes (the reply keeps its texts in hidden <pre>s).
  if (window.__regqaFeedback) return;
  window.__regqaFeedback = true;
  const hidden = (root, cls) => {
    const el = root ? root.querySelector('.' + cls) : null;
    return el ? el.textContent : '';
  };
  const flash = (b, text, ms) => {
    const label = b.textContent;
    b.textContent = text;
    if (ms) setTimeout(() => { b.textContent = label; }, ms);
  };
  const copy = async (text) => {
    try { await navigator.clipboard.writeText(text); return true; } catch (e) {
      const ta = document.createElement('textarea');
      ta.value = text; ta.setAttribute('readonly', ''); ta.style.position = 'fixed'; ta.style.opacity = '0';
      document.body.appendChild(ta); ta.select();
      let ok = false;
      try { ok = document.execCommand('copy'); } catch (e2) { ok = false; }
      ta.remove();
      return ok;
    }
  };
  const apiUrl = new URL('api/feedback', window.location.href.split(/[?#]/)[0].replace(/[^/]*$/, ''));
  document.addEventListener('click', async (ev) => {
    const b = ev.target && ev.target.closest
      ? ev.target.closest('button.regqa-vote, button.regqa-download, button.regqa-copy-all') : null;
    if (!b) return;
    const reply = b.closest('.regqa-answer');
    if (!reply) return;
    ev.preventDefault();
    if (b.classList.contains('regqa-download')) {
      const md = hidden(reply, 'regqa-md');
      const a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([md], { type: 'text/markdown;charset=utf-8' }));
      a.download = 'regqa-answer-' + new Date().toISOString().slice(0, 10) + '.md';
      document.body.appendChild(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
      return;
    }
    if (b.classList.contains('regqa-copy-all')) {
      const ok = await copy(hidden(reply, 'regqa-cites'));
      flash(b, ok ? '已复制 Copied' : '复制失败 Copy failed', 1500);
      return;
    }
    const group = b.parentElement;
    if (group.dataset.sent) return;  // one vote per card
    const card = b.closest('.regqa-card');
    const body = {
      question: hidden(reply, 'regqa-question'),
      article_id: card ? hidden(card, 'regqa-aid') : null,
      kind: card ? 'answer' : 'no_answer',
      vote: b.classList.contains('regqa-up') ? 'up' : 'down',
    };
    group.dataset.sent = '1';
    let ok = false;
    try {
      const r = await fetch(apiUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                      body: JSON.stringify(body) });
      ok = r.ok;
    } catch (e) { ok = false; }
    if (ok) {
      group.querySelectorAll('button.regqa-vote').forEach((x) => { x.disabled = true; });
      b.classList.add('regqa-voted');
      b.textContent = '已记录 Thanks';
    } else {
      delete group.dataset.sent;
      flash(b, '未能记录 Not saved', 2000);
    }
  });
}
