// The check tab's result (gr.HTML js_on_load): a click on a marked citation in the draft scrolls to its
// verdict row and highlights it. One delegated listener: the HTML is replaced on every check.
if (!element.__regqaMarks) {
  element.__regqaMarks = true;
  const go = (ev) => {
    const mark = ev.target && ev.target.closest ? ev.target.closest('mark.regqa-ck-mark') : null;
    if (!mark) return;
    const n = Array.from(mark.classList).find((c) => /^regqa-ck-n\d+$/.test(c));
    if (!n) return;
    ev.preventDefault();
    element.querySelectorAll('.regqa-ck-active').forEach((el) => el.classList.remove('regqa-ck-active'));
    const row = element.querySelector('.regqa-ck-row.' + n);
    mark.classList.add('regqa-ck-active');
    if (!row) return;
    row.classList.add('regqa-ck-active');
    row.scrollIntoView({ behavior: 'smooth', block: 'center' });
  };
  element.addEventListener('click', go);
  element.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') go(ev); });
}
