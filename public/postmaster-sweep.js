// Admin → Postmaster (views/postmaster/sweep-run.ejs): follows a running sweep through its JSON status
// endpoint and updates the progress bar; reloads once the sweep has finished so the server-rendered
// counts, table and trend appear. Without JavaScript the page has a reload link.
document.addEventListener('DOMContentLoaded', () => {
  const bar = document.getElementById('sweep-progress');
  if (!bar) return;
  const url = bar.dataset.statusUrl;
  const set = (field, value) => {
    for (const el of document.querySelectorAll(`[data-field="${field}"]`)) el.textContent = value;
  };
  let failures = 0;
  const poll = async () => {
    try {
      const res = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' });
      if (!res.ok) throw new Error(`status ${res.status}`);
      const s = await res.json();
      failures = 0;
      if (!s.running) {
        window.location.reload();
        return;
      }
      if (s.progress) {
        bar.value = s.progress.percent;
        bar.textContent = `${s.progress.percent}%`;
        set('done', String(s.progress.done));
        set('total', String(s.progress.total));
      }
    } catch {
      failures += 1;
    }
    setTimeout(poll, Math.min(10_000, 1000 * 2 ** Math.min(failures, 3)));
  };
  setTimeout(poll, 1000);
});
