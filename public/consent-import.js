// Import status page (views/consent/import/status.ejs): follows the import through its JSON status
// endpoint and updates the progress bar and counts; reloads once the import has finished so the
// server-rendered summary and report link appear. Without JavaScript the page has a Reload link.
document.addEventListener('DOMContentLoaded', () => {
  const bar = document.getElementById('import-progress');
  if (!bar || bar.dataset.finished === 'yes') return;
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
      bar.value = s.percent;
      bar.textContent = `${s.percent}%`;
      set('percent', String(s.percent));
      set('summary', s.summary);
      for (const key of ['rowsImported', 'rowsConfirmed', 'rowsPending', 'rowsRejected']) set(key, Number(s[key]).toLocaleString('en'));
      if (s.finished) {
        window.location.reload();
        return;
      }
    } catch {
      failures += 1;
    }
    setTimeout(poll, Math.min(10_000, 1000 * 2 ** Math.min(failures, 3)));
  };
  setTimeout(poll, 1000);
});
