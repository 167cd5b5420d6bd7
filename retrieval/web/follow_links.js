() => {
  // Links inside the chat (search these words alone, compare, an article's link) and the laws tab's chapter
  // outline are page permalinks; a plain click follows them in place, keeping the conversation: the query goes to
  // a hidden box and its button. An article's link and a comparison also put their permalink in the address bar
  // (history.pushState), so it can be copied from there or bookmarked; the outline's links show the chat.
  if (window.__regqaFollow) return;
  window.__regqaFollow = true;
  document.addEventListener('click', (ev) => {
    const a = ev.target && ev.target.closest
      ? ev.target.closest('#regqa-chat a.regqa-act, #regqa-outline a.regqa-outline-link') : null;
    if (!a || a.classList.contains('regqa-share')) return;
    if (ev.button !== 0 || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.altKey) return;
    const box = document.querySelector('#regqa-cmd textarea, #regqa-cmd input');
    const go = document.getElementById('regqa-cmd-go');
    if (!box || !go) return;
    ev.preventDefault();
    const url = new URL(a.getAttribute('href'), window.location.href);
    if (a.matches('.regqa-link, .regqa-compare, .regqa-outline-link')) {
      try { window.history.pushState({ regqa: url.search }, '', url.pathname + url.search); } catch (e) { /* file: */ }
    }
    if (a.classList.contains('regqa-outline-link')) {
      const tab = Array.from(document.querySelectorAll('[role="tab"]'))
        .find((t) => (t.textContent || '').includes('检索 Search'));
      if (tab) tab.click();
    }
    box.value = url.search;
    box.dispatchEvent(new Event('input', { bubbles: true }));
    setTimeout(() => go.click(), 30);
  });
}
