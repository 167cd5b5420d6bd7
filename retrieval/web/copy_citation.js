() => {
  // Copy buttons inside chat messages: the sanitiser strips inline handlers, so one delegated listener.
  if (window.__regqaCopy) return;
  window.__regqaCopy = true;
  document.addEventListener('click', async (ev) => {
    const b = ev.target && ev.target.closest ? ev.target.closest('button.regqa-copy') : null;
    if (!b) return;
    ev.preventDefault();
    const holder = b.closest('.regqa-head, .regqa-rel-head');
    const cite = holder ? holder.querySelector('.regqa-cite') : null;
    const text = cite ? cite.textContent.trim() : '';
    let ok = false;
    try { await navigator.clipboard.writeText(text); ok = true; } catch (e) {
      const ta = document.createElement('textarea');
      ta.value = text; ta.setAttribute('readonly', ''); ta.style.position = 'fixed'; ta.style.opacity = '0';
      document.body.appendChild(ta); ta.select();
      try { ok = document.execCommand('copy'); } catch (e2) { ok = false; }
      ta.remove();
    }
    const label = b.textContent;
    b.textContent = ok ? '已复制 Copied' : '复制失败 Copy failed';
    setTimeout(() => { b.textContent = label; }, 1500);
  });
}
