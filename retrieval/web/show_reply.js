() => {
  // After a reply, show its question at the top of the chat (Gradio would scroll to the end of the last card).
  const show = (tries) => {
    const qs = document.querySelectorAll('#regqa-chat .regqa-q');
    const q = qs[qs.length - 1];
    if (!q) { if (tries > 0) setTimeout(() => show(tries - 1), 50); return; }
    const row = q.closest('.message-row') || q;
    const chat = document.getElementById('regqa-chat');
    let box = row.parentElement;
    while (box && box !== chat && box.scrollHeight <= box.clientHeight + 1) box = box.parentElement;
    if (box && box !== chat) {
      box.scrollTop += row.getBoundingClientRect().top - box.getBoundingClientRect().top - 28;
    }
  };
  setTimeout(() => show(10), 50);
}
