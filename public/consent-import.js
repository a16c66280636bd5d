// Import status page (views/consent/import/status.ejs): follows the import through its JSON status
// endpoint (public/progress-poll.js) and updates the progress bar and counts; reloads once the import
// has finished so the server-rendered summary and report link appear. Without JavaScript the page has
// a Reload link.
document.addEventListener('DOMContentLoaded', () => {
  const bar = document.getElementById('import-progress');
  if (!bar || bar.dataset.finished === 'yes') return;
  window.pollProgress(bar.dataset.statusUrl, (s) => {
    bar.value = s.percent;
    bar.textContent = `${s.percent}%`;
    window.setProgressField('percent', String(s.percent));
    window.setProgressField('summary', s.summary);
    for (const key of ['rowsImported', 'rowsConfirmed', 'rowsPending', 'rowsRejected']) window.setProgressField(key, Number(s[key]).toLocaleString('en'));
    if (!s.finished) return false;
    window.location.reload();
    return true;
  });
});
