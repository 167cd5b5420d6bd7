// The skip link after the question box (gr.HTML js_on_load): moves the keyboard focus to the latest reply's
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
