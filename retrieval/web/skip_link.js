// Keyboard and focus helpers (gr.HTML js_on_load of the skip link). The skip link after the question box: moves the keyboard focus to the latest reply's
// first card (its citation heading), or to the chat when there is no reply yet, instead of some 20 Tab presses.
if (!element.__regqaSkip) {
  element.__regqaSkip = true;
  element.addEventListener('click', (ev) => {
    const link = ev.target && ev.target.closest ? ev.target.closest('a.regqa-skip') : null;
    if (!link) return;
    ev.preventDefault();
    const replies = document.querySelectorAll('#regqa-chat .regqa-answer, #regqa-chat .regqa-error');
    const last = replies[replies.length - 1];
    const target = (last && (last.querySelector('.regqa-card h3.regqa-cite, .regqa-cite, .regqa-none') || last))
      || document.getElementById('regqa-chat');
    if (!target) return;
    if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
    target.focus({ preventScroll: true });
    target.scrollIntoView({ block: 'start' });
  });
}
// The regulation filter's list: Gradio opens it upward (position: fixed, `bottom`) when the field is low in the
// window, over the field's own label; it is moved below the field, the page scrolled to make room for it.
if (!window.__regqaFilterList) {
  window.__regqaFilterList = true;
  const place = (list) => {
    const field = list.closest('.wrap') || list.parentElement;
    if (!field || !list.style.bottom || list.style.bottom === 'auto') return;
    const need = Math.min(list.scrollHeight || 160, 240) + 8;
    let below = field.getBoundingClientRect().bottom;
    if (below + need > window.innerHeight) {
      window.scrollBy(0, below + need - window.innerHeight);
      below = field.getBoundingClientRect().bottom;
    }
    list.style.bottom = 'auto';
    list.style.top = `${below + 2}px`;
    list.style.maxHeight = `${Math.max(120, window.innerHeight - below - 8)}px`;
  };
  new MutationObserver((changes) => {
    for (const c of changes) {
      const t = c.target;
      if (t instanceof Element && t.matches('#regqa-regs .options')) place(t);
      else if (t instanceof Element) t.querySelectorAll('#regqa-regs .options').forEach(place);
    }
  }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['style'] });
}
