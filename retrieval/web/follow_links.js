() => {
  // Links inside the chat (search these words alone, compare, an article's link) are page permalinks; a plain
  // click follows them in place, keeping the conversation: the query goes to a hidden box and its button.
  if (window.__regqaFollow) return;
  window.__regqaFollow = true;
  document.addEventListener('click', (ev) => {
    const a = ev.target && ev.target.closest ? ev.target.closest('#regqa-chat a.regqa-act') : null;
    if (!a || a.classList.contains('regqa-share')) return;
    if (ev.button !== 0 || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.altKey) return;
    const box = document.querySelector('#regqa-cmd textarea, #regqa-cmd input');
    const go = document.getElementById('regqa-cmd-go');
    if (!box || !go) return;
    ev.preventDefault();
    box.value = new URL(a.getAttribute('href'), window.location.href).search;
    box.dispatchEvent(new Event('input', { bubbles: true }));
    setTimeout(() => go.click(), 30);
  });
}
